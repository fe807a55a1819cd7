// The status page of the RUNNING demo in headless Chromium: the built demo (dist/main.js) as a
// child process; a task submitted through POST /tasks with a hostile prompt (message content
// capture on, so the prompt is a span attribute); its trace found on the page, its waterfall with
// the chat span's tokens, the prompt shown as text with no dialog; the flame graph of the
// continuous profiler, zoomed; axe-core; a phone width. Screenshots go to
// apps/demo-agent/test-artifacts/ (page.png, waterfall.png, flame.png, flame-zoomed.png, phone.png,
// flame-phone.png; not committed).
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openWatchedPage, startChildApp, type ChildApp } from '@periscope-tools/testing';

const MAIN = path.join(__dirname, '..', 'dist', 'main.js');
const ARTIFACTS = path.join(__dirname, '..', 'test-artifacts');
const CACHE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-demo-page-'));
const SCRIPT = '<script>alert(1)</script>';
const IMG = '<img src=x onerror=alert(2)>';
// Unique: a reply cached by an earlier run (Redis, disk) would skip the chat span.
const PROMPT = `Search the docs about redis caching ${SCRIPT} ${IMG} (run ${randomUUID().slice(0, 8)})`;
const TRACE_ID = randomBytes(16).toString('hex');

let app: ChildApp;
let browser: Browser;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  app = await startChildApp({
    script: MAIN,
    args: ['--tasks', '2', '--port', '0', '--error-rate', '0', '--seed', String(Math.floor(Math.random() * 2 ** 30))],
    env: {
      PERISCOPE_DEMO_LATENCY_SCALE: '0.02',
      PERISCOPE_HEALTH_DRAIN_DELAY_MS: '0',
      PERISCOPE_DEMO_CACHE_DIR: CACHE_DIR,
      PERISCOPE_DEMO_OUT_DIR: path.join(CACHE_DIR, 'out'),
      PERISCOPE_GPU_NVIDIA_SMI: path.join(CACHE_DIR, 'no-nvidia-smi'),
      PERISCOPE_GPU_SYSTEMINFORMATION: 'false',
      // Prompts become span attributes (gen_ai.input.messages): the page must show them as text.
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
      // Short profiler windows, so the page has a flame graph within seconds.
      PERISCOPE_PROFILING_WINDOW: '2s',
    },
  });
  await app.waitForOutput(/Serving until Ctrl-C/, 60_000);
  await submitTask(TRACE_ID, PROMPT);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  fs.rmSync(CACHE_DIR, { recursive: true, force: true });
});

const open = (options?: Parameters<typeof openWatchedPage>[1]) => openWatchedPage(browser, options);

/** Runs one agent task in the demo under the given trace id. */
async function submitTask(traceId: string, prompt: string): Promise<void> {
  const res = await fetch(`${app.url}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${'a1'.repeat(8)}-01` },
    body: JSON.stringify({ prompt }),
  });
  expect(res.status).toBe(200);
}

/** Opens the page and the task's trace in the list (by default the one submitted first); returns its button. */
async function openTask(page: Page, traceId = TRACE_ID) {
  const res = await page.goto(`${app.url}/`);
  expect(res?.status()).toBe(200);
  // Narrow the list to agent runs (database, cache and page traces crowd the newest 50), then pick ours.
  await page.locator('#traces-card').waitFor();
  await page.fill('#f-name', 'invoke_agent');
  await page.click('#trace-filter button[type=submit]');
  const link = page.locator(`#traces button[data-trace="${traceId}"]`);
  await link.waitFor({ timeout: 20_000 });
  await page.locator('#checks td', { hasText: 'postgres' }).first().waitFor();
  return link;
}

test('finds the task submitted through POST /tasks, opens its waterfall: chat span with tokens, prompt as text', async () => {
  const w = await open();
  try {
    const link = await openTask(w.page);
    expect(await link.textContent()).toBe('invoke_agent periscope-demo-agent');
    await w.page.screenshot({ path: path.join(ARTIFACTS, 'page.png') });
    await link.click();
    const chat = w.page.locator('#waterfall .span-row', { hasText: /^chat sim-gpt-4o-mini/ }).first();
    await chat.waitFor();
    expect(await chat.textContent()).toMatch(/sim-gpt-4o-mini · in \d+ · out \d+/);
    await chat.click();
    await w.page.locator('#span-detail td', { hasText: 'gen_ai.usage.input_tokens' }).waitFor();
    // The hostile prompt is an attribute value, shown as text: no element, no script ran.
    const prompt = w.page.locator('#span-detail td', { hasText: SCRIPT });
    await prompt.first().waitFor();
    expect(await prompt.first().textContent()).toContain(IMG);
    expect(await w.page.locator('main img, main script, #span-detail *[onerror]').count()).toBe(0);
    await w.page.locator('#waterfall-card').screenshot({ path: path.join(ARTIFACTS, 'waterfall.png') });
    // Live rates from the demo's metrics history: tasks and LLM calls, each with a sparkline.
    for (const name of ['periscope_agent_tasks_total', 'gen_ai_client_operation_duration_seconds'])
      await w.page.locator('#rates tr', { hasText: name }).locator('svg.spark').first().waitFor();
    expect(w.dialogs).toEqual([]);
    expect(w.errors).toEqual([]);
  } finally {
    await w.context.close();
  }
}, 150_000);

test('shows the continuous profiler’s latest CPU profile as a flame graph that zooms', async () => {
  // Work for a whole profiler window (2 s), then let it close: the newest window holds agent tasks.
  for (const until = Date.now() + 2500; Date.now() < until;) {
    const res = await fetch(`${app.url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: `What is ${Math.floor(Math.random() * 1e6)} * 7? (${randomUUID().slice(0, 8)})` }),
    });
    expect(res.status).toBe(200);
  }
  await new Promise((r) => setTimeout(r, 2500));
  const w = await open();
  try {
    await w.page.goto(`${app.url}/`);
    const root = w.page.locator('#flame .frame.zoomed');
    await root.waitFor({ timeout: 30_000 });
    expect(await w.page.locator('#flame-meta').textContent()).toMatch(/^CPU profile from .* frames/);
    // Zoom into the widest JavaScript frame below the root (not a V8 pseudo-frame such as (program)).
    const children = w.page.locator('#flame .frame:not(.zoomed):not(.anc)');
    expect(await children.count()).toBeGreaterThan(0);
    const widths = await children.evaluateAll((ns) =>
      ns.map((n) =>
        /^\([^()]*\)$/.test(String((n as any).textContent)) ? 0 : (n as any).getBoundingClientRect().width,
      ),
    );
    await w.page.locator('#flame-card').screenshot({ path: path.join(ARTIFACTS, 'flame.png') });
    const widest = children.nth(widths.indexOf(Math.max(...widths)));
    const name = (await widest.textContent()) ?? '';
    await widest.click();
    await w.page.locator('#flame .frame.zoomed', { hasText: name }).waitFor();
    expect(await w.page.locator('#flame .frame.anc').count()).toBeGreaterThan(0);
    expect(await w.page.locator('#flame-detail').textContent()).toMatch(/ · total .* · self /);
    await w.page.locator('#flame-card').screenshot({ path: path.join(ARTIFACTS, 'flame-zoomed.png') });
    await w.page.keyboard.press('Escape');
    await w.page.locator('#flame .frame.zoomed:not(.anc)').first().waitFor();
    expect(await w.page.locator('#flame .frame.anc').count()).toBe(0);
    expect(w.dialogs).toEqual([]);
    expect(w.errors).toEqual([]);
  } finally {
    await w.context.close();
  }
}, 150_000);

test('axe-core finds no serious violations with the waterfall open; a phone-sized screen has no horizontal scroll', async () => {
  // A task of its own: the profiler test ran hundreds since the first one, which may have left
  // the newest agent runs the page lists (or the trace store).
  const traceId = randomBytes(16).toString('hex');
  await submitTask(traceId, `Search the docs about redis caching (run ${randomUUID().slice(0, 8)})`);
  const w = await open({ bypassCSP: true });
  try {
    await (await openTask(w.page, traceId)).click();
    await w.page.locator('#waterfall .span-row').first().click();
    await w.page.locator('#flame .frame').first().waitFor({ timeout: 30_000 });
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
    await (await openTask(phone.page, traceId)).click();
    await phone.page.locator('#waterfall .span-row').first().waitFor();
    await phone.page.locator('#flame .frame').first().waitFor({ timeout: 30_000 });
    const overflow = await phone.page.evaluate(() => {
      const d = (globalThis as any).document.documentElement;
      return d.scrollWidth - d.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.page.screenshot({ path: path.join(ARTIFACTS, 'phone.png') });
    await phone.page.locator('#flame-card').screenshot({ path: path.join(ARTIFACTS, 'flame-phone.png') });
  } finally {
    await phone.context.close();
  }
}, 150_000);
