// The status page in a real browser: headless Chromium driven by playwright-core, against a
// health server holding a real @periscope/tracing memory store.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { trace as otelTrace } from '@opentelemetry/api';
import { createMetrics, type History, type Metrics } from '@periscope/metrics';
import { startTracing, trace, traceAgent, traceLlmCall, type Tracing } from '@periscope/tracing';
import { launchChromium } from '@periscope-tools/testing';
import { HealthServer } from '../src';
import { sleep } from './helpers';

const ARTIFACTS = path.join(__dirname, '..', 'test-artifacts');
const EVIL = '<script>alert(1)</script><img src=x onerror=alert(1)>';

async function agentTask(): Promise<string> {
  return traceAgent('planner', async (span) => {
    span.setAttribute('app.prompt', EVIL);
    await traceLlmCall({ provider: 'openai', model: 'gpt-4o', input: [{ role: 'user', content: EVIL }] }, async () => {
      await sleep(5);
      return { id: 'c1', model: 'gpt-4o', usage: { prompt_tokens: 120, completion_tokens: 30 }, choices: [] };
    });
    trace('tool ' + EVIL, (s) => s.setAttribute('note', EVIL));
    return span.spanContext().traceId;
  });
}

let browser: Browser;
let tracing: Tracing;
let server: HealthServer;
let base: string;
let traceId: string;
let metrics: Metrics;
let history: History;

beforeAll(async () => {
  browser = await launchChromium(); // first: a missing Chromium fails before anything starts
  mkdirSync(ARTIFACTS, { recursive: true });
  tracing = startTracing({ serviceName: 'page-test', exporter: 'memory', env: {} });
  traceId = await agentTask();
  await trace('other work', async () => sleep(2));
  const tracer = otelTrace.getTracer('page-test');
  tracer.startSpan('slow job', { startTime: Date.now() - 1500 }).end();
  const failed = tracer.startSpan('failed job');
  failed.setStatus({ code: 2, message: 'boom' });
  failed.end();
  metrics = createMetrics();
  const calls = metrics.counter({ name: 'llm_calls_total', help: 'LLM calls' });
  const seconds = metrics.histogram({ name: 'llm_seconds', help: 'LLM latency', buckets: [0.1, 0.5, 1, 5] });
  history = metrics.history({ series: ['llm_calls_total', 'llm_seconds'], intervalMs: 60_000 }); // sampled by hand below
  const t0 = Date.now() + 1000;
  for (let i = 0; i < 6; i++) {
    calls.inc(i + 1);
    seconds.observe(0.2 * (i + 1));
    history.sample(t0 + i * 60_000);
  }
  server = new HealthServer({
    port: 0,
    drainDelayMs: 0,
    page: true,
    traces: tracing.store,
    metrics,
    series: { history, names: ['llm_calls_total', 'llm_seconds'] },
    env: {},
  });
  server.addCheck({ name: 'db', run: () => ({ status: 'pass', observedValue: 3, observedUnit: 'ms' }) });
  server.addCheck({ name: 'cache', critical: false, run: () => ({ status: 'warn', output: EVIL }) });
  server.addStatus('cache', () => ({ l1: { hitRatio: 0.93, size: 120 }, l2: { breaker: 'closed' }, note: EVIL }));
  server.addStatus('pool', () => ({ open: 4, idle: 2, waiting: 0 }));
  base = (await server.listen()).url;
  server.markReady();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await tracing?.close();
  history?.close();
  await metrics?.close();
});

interface Watched {
  context: BrowserContext;
  page: Page;
  dialogs: string[];
  errors: string[];
  violations: string[];
}

async function open(options: { bypassCSP?: boolean } = {}): Promise<Watched> {
  const context = await browser.newContext({ bypassCSP: options.bypassCSP ?? false });
  const page = await context.newPage();
  const w: Watched = { context, page, dialogs: [], errors: [], violations: [] };
  page.on('dialog', (d) => {
    w.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') w.errors.push(m.text());
  });
  page.on('pageerror', (e) => w.errors.push(String(e)));
  return w;
}

describe('status page in Chromium', () => {
  it('finds the trace, opens its waterfall with the chat span and its tokens; hostile text stays text', async () => {
    const w = await open();
    try {
      const res = await w.page.goto(base + '/');
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
      await w.page.locator('#checks td', { hasText: 'db' }).first().waitFor();
      await w.page.locator('#sections h2', { hasText: 'pool' }).waitFor();
      // Sparklines of the registered metrics history: a rate line, and a p95 line for the histogram.
      await w.page.locator('#rates td', { hasText: 'llm_seconds' }).waitFor();
      expect(await w.page.locator('#rates svg.spark polyline').count()).toBe(3);
      expect(await w.page.locator('#rates td', { hasText: /^p95 / }).count()).toBe(1);
      // Filter by name, then open the agent's trace from the list.
      await w.page.fill('#f-name', 'planner');
      await w.page.click('#trace-filter button[type=submit]');
      const link = w.page.locator(`#traces button[data-trace="${traceId}"]`);
      await link.waitFor();
      expect(await w.page.locator('#traces button[data-trace]').count()).toBe(1);
      await w.page.screenshot({ path: path.join(ARTIFACTS, 'page.png'), fullPage: true });
      await link.click();
      const chat = w.page.locator('#waterfall .span-row', { hasText: 'chat gpt-4o' });
      await chat.waitFor();
      const row = await chat.textContent();
      expect(row).toContain('in 120');
      expect(row).toContain('out 30');
      // Nesting: the chat span is indented under the agent span.
      const pad = await chat
        .locator('.span-label')
        .evaluate((n) => (n as unknown as { style: { paddingLeft: string } }).style.paddingLeft);
      expect(pad).toBe('14px');
      // The hostile span name and attributes show as text, never as markup.
      const evilRow = w.page.locator('#waterfall .span-row', { hasText: 'tool <script>' });
      await evilRow.click();
      await w.page.locator('#span-detail td', { hasText: EVIL }).first().waitFor();
      expect(
        await w.page.locator('#waterfall img, #span-detail img, #sections img, #checks img, #waterfall script').count(),
      ).toBe(0);
      await chat.click();
      await w.page.locator('#span-detail td', { hasText: 'gen_ai.usage.input_tokens' }).waitFor();
      await w.page.screenshot({ path: path.join(ARTIFACTS, 'waterfall.png'), fullPage: true });
      // Keyboard: the waterfall rows are buttons reachable with Tab and opened with Enter.
      await chat.focus();
      await w.page.keyboard.press('Tab');
      await w.page.keyboard.press('Enter');
      expect(await w.page.locator('#waterfall .span-row[aria-pressed="true"]').count()).toBe(1);
      expect(w.dialogs).toEqual([]);
      expect(w.errors).toEqual([]);
    } finally {
      await w.context.close();
    }
  }, 60_000);

  it('highlights error and slow traces and filters by status', async () => {
    const w = await open();
    try {
      await w.page.goto(base + '/');
      await w.page.locator('#traces tr.slow', { hasText: 'slow job' }).waitFor();
      await w.page.locator('#traces tr.error', { hasText: 'failed job' }).waitFor();
      expect(await w.page.locator('#traces tr.error').count()).toBe(1);
      await w.page.selectOption('#f-status', 'error');
      await w.page.click('#trace-filter button[type=submit]');
      await w.page.waitForFunction(() => {
        const d = (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document;
        return d.querySelectorAll('#traces button[data-trace]').length === 1;
      });
      expect(await w.page.locator('#traces button[data-trace]').textContent()).toBe('failed job');
      expect(w.errors).toEqual([]);
    } finally {
      await w.context.close();
    }
  }, 60_000);

  it('sends a strict CSP that blocks an injected inline script', async () => {
    const w = await open();
    try {
      await w.page.goto(base + '/');
      await w.page.locator('#checks table').waitFor();
      const blocked = await w.page.evaluate(() => {
        const g = globalThis as unknown as {
          document: { createElement(t: string): { textContent: string }; body: { appendChild(n: unknown): void } };
          injected?: number;
        };
        const s = g.document.createElement('script');
        s.textContent = 'window.injected = 1';
        g.document.body.appendChild(s);
        return g.injected === undefined;
      });
      expect(blocked).toBe(true);
      // The violation is reported by the browser; nothing else went wrong.
      expect(w.errors.filter((e) => !e.includes('Content Security Policy'))).toEqual([]);
      expect(w.dialogs).toEqual([]);
    } finally {
      await w.context.close();
    }
  }, 60_000);

  it('has no serious or critical axe-core violations on the page and the waterfall', async () => {
    const w = await open({ bypassCSP: true });
    try {
      await w.page.goto(base + '/');
      await w.page.locator(`#traces button[data-trace="${traceId}"]`).click();
      await w.page.locator('#waterfall .span-row').first().click();
      await w.page.locator('#span-detail table').first().waitFor();
      await w.page.addScriptTag({ content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
      const result = await w.page.evaluate(async () => {
        const axe = (
          globalThis as unknown as {
            axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> };
          }
        ).axe;
        const r = await axe.run();
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
      });
      writeFileSync(path.join(ARTIFACTS, 'axe.json'), JSON.stringify(result, null, 2));
      expect(result.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    } finally {
      await w.context.close();
    }
  }, 60_000);

  it('with a debug token, asks for it once and reads the traces with it as a bearer header', async () => {
    const guarded = new HealthServer({
      port: 0,
      drainDelayMs: 0,
      page: true,
      traces: tracing.store,
      debugToken: 'tok-1',
      env: {},
    });
    const w = await open();
    try {
      const url = (await guarded.listen()).url;
      guarded.markReady();
      await w.page.goto(url + '/');
      await w.page.locator('#auth-token').waitFor();
      expect(await w.page.locator('#traces button[data-trace]').count()).toBe(0);
      await w.page.fill('#auth-token', 'tok-1');
      await w.page.press('#auth-token', 'Enter');
      await w.page.locator(`#traces button[data-trace="${traceId}"]`).waitFor();
      expect(await w.page.locator('#auth').isHidden()).toBe(true);
      // The only console errors are the two 401 answers before the token was given.
      expect(w.errors.filter((e) => !e.includes('401'))).toEqual([]);
    } finally {
      await w.context.close();
      await guarded.close();
    }
  }, 60_000);

  it('lays out on a phone-sized screen without horizontal page scroll', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
    try {
      const page = await context.newPage();
      await page.goto(base + '/');
      await page.locator(`#traces button[data-trace="${traceId}"]`).click();
      await page.locator('#waterfall .span-row').first().waitFor();
      const overflow = await page.evaluate(() => {
        const d = (
          globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }
        ).document.documentElement;
        return d.scrollWidth - d.clientWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: path.join(ARTIFACTS, 'phone.png'), fullPage: true });
    } finally {
      await context.close();
    }
  }, 60_000);
});
