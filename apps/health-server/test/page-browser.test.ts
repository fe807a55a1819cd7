// The monitor's status page in headless Chromium: the built monitor (dist/main.js) as a child
// process against the real PostgreSQL and Redis, one answering agent, and two GPUs from
// @periscope/gpu-pool's nvidia-smi double (the second one hot). The page shows the checks, the
// monitored targets and the GPUs; it follows the /debug/* access rule. Screenshots go to
// apps/health-server/test-artifacts/ (page.png, phone.png; not committed).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import {
  launchChromium,
  openWatchedPage,
  postgresUrl,
  redisUrl,
  startChildApp,
  type ChildApp,
} from '@periscope-tools/testing';

const MAIN = path.join(__dirname, '..', 'dist', 'main.js');
const FAKE_NVIDIA_SMI_DIR = path.join(__dirname, '..', '..', '..', 'packages', 'gpu-pool', 'test', 'fixtures', 'bin');
const ARTIFACTS = path.join(__dirname, '..', 'test-artifacts');
const TOKEN = 'health-server-page-token-42';

let browser: Browser;
let app: ChildApp;
let guarded: ChildApp;
let agent: http.Server;

// trust auth ignores the password: it is there to prove that the page never shows it.
const SECRET = 'pw-page-secret-hunter2';
function databaseUrl(): string {
  const db = new URL(postgresUrl());
  db.username = 'postgres';
  db.password = SECRET;
  return db.toString();
}

function monitorEnv(agentUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl(),
    REDIS_URL: redisUrl(),
    PERISCOPE_AGENTS: agentUrl,
    PERISCOPE_PROBE_TIMEOUT_MS: '3000',
    PERISCOPE_PROBE_INTERVAL_MS: '0',
    PERISCOPE_HEALTH_DRAIN_DELAY_MS: '0',
    PATH: `${FAKE_NVIDIA_SMI_DIR}${path.delimiter}${process.env.PATH ?? ''}`,
    FAKE_NVSMI_GPUS: '2',
    FAKE_NVSMI_SET: '1:temperature.gpu=95',
  };
}

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  agent = http.createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? 200 : 404);
    res.end('ok');
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', () => r()));
  const agentUrl = `http://127.0.0.1:${(agent.address() as AddressInfo).port}`;
  app = await startChildApp({ script: MAIN, args: ['--port', '0'], env: monitorEnv(agentUrl) });
  guarded = await startChildApp({
    script: MAIN,
    args: ['--port', '0'],
    env: { ...monitorEnv(agentUrl), PERISCOPE_DEBUG_TOKEN: TOKEN },
  });
  browser = await launchChromium();
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await guarded?.stop();
  await new Promise<void>((r) => (agent ? agent.close(() => r()) : r()));
});

const open = (options?: Parameters<typeof openWatchedPage>[1]) => openWatchedPage(browser, options);

test('GET / shows the checks, the monitored targets and the GPUs, with no console errors', async () => {
  const w = await open();
  try {
    const res = await w.page.goto(`${app.url}/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await w.page.locator('#service', { hasText: 'periscope-health-server' }).waitFor();
    for (const check of ['postgres', 'redis', 'agent', 'gpus'])
      await w.page.locator('#checks td', { hasText: check }).first().waitFor();
    // The hot GPU warns, naming the device.
    await w.page.locator('#checks tr', { hasText: /GPU 1 .* unhealthy: temperature 95 C/ }).waitFor();
    for (const section of ['dependencies', 'agents', 'gpus'])
      await w.page.locator('#sections h2', { hasText: new RegExp(`^${section}$`) }).waitFor();
    await w.page.locator('#sections td', { hasText: 'NVIDIA H100 80GB HBM3' }).first().waitFor();
    // Sparklines from the monitor's metrics history, and no flame graph (the monitor does not profile).
    await w.page.locator('#rates td', { hasText: 'periscope_host_cpu_load_ratio' }).waitFor();
    expect(await w.page.locator('#flame-card').isHidden()).toBe(true);
    await w.page
      .locator('#sections td', { hasText: /^postgres:\/\/127\.0\.0\.1:\d+/ })
      .first()
      .waitFor();
    expect(await w.page.locator('main').textContent()).not.toContain(SECRET);
    await w.page.screenshot({ path: path.join(ARTIFACTS, 'page.png'), fullPage: true });
    expect(w.dialogs).toEqual([]);
    expect(w.errors).toEqual([]);
  } finally {
    await w.context.close();
  }
}, 150_000);

test('axe-core finds no serious violations; a phone-sized screen has no horizontal scroll', async () => {
  const w = await open({ bypassCSP: true });
  try {
    await w.page.goto(`${app.url}/`);
    await w.page.locator('#sections h2', { hasText: 'gpus' }).waitFor();
    await w.page.locator('#rates table').waitFor();
    await w.page.addScriptTag({ content: fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
    const violations = await w.page.evaluate(async () => {
      const r = await (globalThis as any).axe.run();
      return r.violations.map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
    });
    expect(violations.filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
  } finally {
    await w.context.close();
  }
  const phone = await open({ width: 375, height: 740 });
  try {
    await phone.page.goto(`${app.url}/`);
    await phone.page.locator('#sections h2', { hasText: 'gpus' }).waitFor();
    const overflow = await phone.page.evaluate(() => {
      const d = (globalThis as any).document.documentElement;
      return d.scrollWidth - d.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.page.screenshot({ path: path.join(ARTIFACTS, 'phone.png'), fullPage: true });
  } finally {
    await phone.context.close();
  }
}, 150_000);

test('with PERISCOPE_DEBUG_TOKEN the data needs the bearer token; the page asks for it once', async () => {
  expect((await fetch(`${guarded.url}/status/traces`)).status).toBe(401);
  expect((await fetch(`${guarded.url}/status/series`)).status).toBe(401);
  const ok = await fetch(`${guarded.url}/status/series`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(ok.status).toBe(200);
  const w = await open();
  try {
    await w.page.goto(`${guarded.url}/`);
    await w.page.locator('#auth-token').waitFor();
    await w.page.fill('#auth-token', TOKEN);
    await w.page.press('#auth-token', 'Enter');
    await w.page.locator('#rates td', { hasText: 'periscope_host_cpu_load_ratio' }).waitFor();
    expect(await w.page.locator('#auth').isHidden()).toBe(true);
    // The only console errors are the 401 answers before the token was given.
    expect(w.errors.filter((e) => !e.includes('401'))).toEqual([]);
  } finally {
    await w.context.close();
  }
}, 150_000);
