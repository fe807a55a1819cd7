// The status page's flame graph: GET /status/profile (bounds, redaction, ETag, access) and the
// graph in headless Chromium (zoom by click and keyboard, hover details, hostile names as text).
// The source is a plain object of the ProfileSource shape (what a ContinuousProfiler from
// @periscope/profiling offers; health does not import it — the demo's browser test uses the real one).
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, openWatchedPage } from '@periscope-tools/testing';
import { HealthConfigError, HealthServer, type FlameNode, type ProfileSource } from '../src';
import { MAX_NAME, MAX_NODES, boundTree } from '../src/page/profile';
import { request } from './helpers';

const ARTIFACTS = path.join(__dirname, '..', 'test-artifacts');
const EVIL = '<img src=x onerror=alert(1)>';

function sample(): FlameNode {
  return {
    name: 'root',
    value: 10_000,
    children: [
      {
        name: 'main (file:///app/main.js:1)',
        value: 9000,
        children: [
          {
            name: 'handle (file:///app/handle.js:3)',
            value: 6000,
            children: [
              { name: `${EVIL} (file:///app/evil.js:7)`, value: 2500, children: [] },
              { name: 'JSON.parse', value: 1500, children: [] },
            ],
          },
          { name: 'connect postgres://app:hunter2@db:5432/app', value: 2000, children: [] },
        ],
      },
      { name: '(garbage collector)', value: 800, children: [] },
      { name: 'tiny', value: 5, children: [] },
    ],
  };
}

function profileOf(root: FlameNode, startedAt = Date.now() - 10_000) {
  return { kind: 'cpu' as const, startedAt, durationMs: 10_000, toD3: () => root };
}

class Source implements ProfileSource {
  current: ReturnType<typeof profileOf> | undefined;
  latest() {
    return this.current;
  }
}

const servers: HealthServer[] = [];
async function start(options: ConstructorParameters<typeof HealthServer>[0]): Promise<string> {
  const s = new HealthServer({ port: 0, drainDelayMs: 0, env: {}, page: true, ...options });
  servers.push(s);
  const url = (await s.listen()).url;
  s.markReady();
  return url;
}
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('GET /status/profile', () => {
  it('is the bounded tree with self values, sorted children and redacted names; small frames left out', async () => {
    const source = new Source();
    source.current = profileOf(sample());
    const url = await start({ profiles: source });
    const res = await request(url, '/status/profile');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const { available, profile } = JSON.parse(res.body);
    expect(available).toBe(true);
    expect(profile).toMatchObject({ kind: 'cpu', unit: 'us', total: 10_000, durationMs: 10_000, truncated: false });
    expect(profile.nodes).toBe(7); // 'tiny' is 0.05 % of the total: dropped
    const main = profile.root.children.find((c: FlameNode) => c.name.startsWith('main'));
    expect(main).toMatchObject({ value: 9000, self: 1000 });
    expect(profile.root.children.map((c: FlameNode) => c.name)).toEqual(['(garbage collector)', main.name]);
    expect(res.body).not.toContain('hunter2');
    expect(res.body).toContain(EVIL); // data: the page shows it as text
  });

  it('answers 304 to the same ETag until a new profile arrives; available false without a source', async () => {
    const source = new Source();
    const url = await start({ profiles: source });
    expect(JSON.parse((await request(url, '/status/profile')).body)).toEqual({ available: true, profile: null });
    source.current = profileOf(sample());
    const first = await request(url, '/status/profile');
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await request(url, '/status/profile', { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    source.current = profileOf(sample(), Date.now());
    expect((await request(url, '/status/profile', { headers: { 'If-None-Match': etag } })).status).toBe(200);
    const none = await start({});
    expect(JSON.parse((await request(none, '/status/profile')).body)).toEqual({ available: false, profile: null });
  });

  it('follows the page access rule: a bearer token when one is configured', async () => {
    const source = new Source();
    source.current = profileOf(sample());
    const url = await start({ profiles: source, debugToken: 'tok-flame' });
    expect((await request(url, '/status/profile')).status).toBe(401);
    const ok = await request(url, '/status/profile', { headers: { Authorization: 'Bearer tok-flame' } });
    expect(ok.status).toBe(200);
  });

  it('bounds a hostile tree: node count, depth and name length, without recursion', () => {
    let deep: FlameNode = { name: 'leaf', value: 1, children: [] };
    for (let i = 0; i < 100_000; i++) deep = { name: `f${i}`, value: 1, children: [deep] };
    const d = boundTree(deep);
    expect(d.truncated).toBe(true);
    const wide: FlameNode = {
      name: 'x'.repeat(10_000),
      value: 1e9,
      children: Array.from({ length: 20_000 }, (_, i) => ({ name: `w${i}`, value: 1e9 / 500 })), // sums past the root: hostile
    };
    const w = boundTree(wide);
    expect(w.nodes).toBe(MAX_NODES);
    expect(w.truncated).toBe(true);
    expect(w.root.name.length).toBe(MAX_NAME);
    const junk = boundTree({ name: 42, value: NaN, children: [null, 'x'] } as unknown as FlameNode);
    expect(junk).toEqual({ root: { name: '42', value: 0, self: 0, children: [] }, nodes: 1, truncated: false });
  });

  it('refuses a profiles option without latest()', () => {
    expect(() => new HealthServer({ page: true, profiles: {} as never, env: {} })).toThrow(HealthConfigError);
  });
});

describe('flame graph in Chromium', () => {
  let browser: Browser;
  let base: string;
  const source = new Source();

  beforeAll(async () => {
    browser = await launchChromium(); // first: a missing Chromium fails before anything starts
    mkdirSync(ARTIFACTS, { recursive: true });
    source.current = profileOf(sample());
    base = await start({ profiles: source });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function open(viewport = { width: 1280, height: 900 }, bypassCSP = false) {
    const w = await openWatchedPage(browser, { ...viewport, bypassCSP });
    await w.page.goto(base + '/');
    await w.page.locator('#flame .frame.zoomed').waitFor();
    return w;
  }

  it('zooms on click, shows name/self/total on hover, resets; hostile names stay text', async () => {
    const { context, page, dialogs, errors } = await open();
    try {
      expect(await page.locator('#flame-meta').textContent()).toMatch(
        /CPU profile from .*, 10\.00 s long: 10 ms busy, 7 frames/,
      );
      const evil = page.locator('#flame .frame', { hasText: EVIL });
      expect(await evil.count()).toBe(1);
      expect(await page.locator('#flame img').count()).toBe(0);
      await page.locator('#flame .frame', { hasText: 'JSON.parse' }).hover();
      expect(await page.locator('#flame-detail').textContent()).toBe(
        'JSON.parse · total 1.50 ms (15.0%) · self 1.50 ms (15.0%)',
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'flame.png'), fullPage: true });
      const handle = page.locator('#flame .frame', { hasText: 'handle' });
      const before = (await handle.boundingBox())!.width;
      await handle.click();
      await page.locator('#flame .frame.zoomed', { hasText: 'handle' }).waitFor();
      const after = (await page.locator('#flame .frame.zoomed').boundingBox())!.width;
      expect(after).toBeGreaterThan(before * 1.4);
      // Ancestors stay above the zoomed frame (click one to zoom out); siblings are gone.
      expect(await page.locator('#flame .frame.anc').allTextContents()).toEqual([
        'root',
        'main (file:///app/main.js:1)',
      ]);
      expect(await page.locator('#flame .frame', { hasText: 'garbage' }).count()).toBe(0);
      expect(await page.locator('#flame-reset').isEnabled()).toBe(true);
      await page.screenshot({ path: path.join(ARTIFACTS, 'flame-zoomed.png'), fullPage: true });
      await page.click('#flame-reset');
      await page.locator('#flame .frame.zoomed', { hasText: 'root' }).waitFor();
      expect(await page.locator('#flame-reset').isDisabled()).toBe(true);
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('is one tab stop; arrows move between frames, Enter zooms, Escape resets', async () => {
    const { context, page, errors } = await open();
    try {
      const focused = () => page.evaluate(() => (globalThis as any).document.activeElement.textContent as string);
      // Tab from the text above the graph: the reset button is disabled, so the next stop is the graph.
      await page.click('#flame-meta');
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('root');
      expect(await page.locator('#flame .frame[tabindex="0"]').count()).toBe(1);
      await page.keyboard.press('ArrowDown');
      expect(await focused()).toBe('(garbage collector)');
      await page.keyboard.press('ArrowRight');
      expect(await focused()).toMatch(/^main/);
      expect(await page.locator('#flame-detail').textContent()).toMatch(
        /^main .* total 9\.00 ms \(90\.0%\) · self 1\.00 ms/,
      );
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await page.locator('#flame .frame.zoomed', { hasText: /^connect/ }).waitFor();
      expect(await focused()).toMatch(/^connect/);
      await page.keyboard.press('ArrowUp');
      expect(await focused()).toMatch(/^main/);
      await page.keyboard.press('Escape');
      await page.locator('#flame .frame.zoomed', { hasText: 'root' }).waitFor();
      expect(await page.locator('#flame .frame[tabindex="0"]').count()).toBe(1);
      // One stop: Tab leaves the graph.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => (globalThis as any).document.activeElement.className as string)).not.toMatch(
        /frame/,
      );
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('offers a newer profile without replacing the one being read; no axe violations; fits a phone', async () => {
    const { context, page } = await open({ width: 1280, height: 900 }, true);
    try {
      source.current = profileOf({ ...sample(), name: 'newer root' }, Date.now());
      await page.locator('#flame-latest').waitFor({ state: 'visible', timeout: 20_000 });
      expect(await page.locator('#flame .frame.zoomed').textContent()).toBe('root');
      await page.click('#flame-latest');
      await page.locator('#flame .frame.zoomed', { hasText: 'newer root' }).waitFor();
      await page.addScriptTag({ content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
      const violations = await page.evaluate(async () => {
        const axe = (globalThis as any).axe;
        const r = await axe.run('#flame-card');
        return r.violations.map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
      });
      expect(violations.filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical')).toEqual(
        [],
      );
    } finally {
      await context.close();
    }
    const phone = await open({ width: 375, height: 740 });
    try {
      const overflow = await phone.page.evaluate(() => {
        const d = (globalThis as any).document.documentElement;
        return d.scrollWidth - d.clientWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      await phone.page.locator('#flame-card').screenshot({ path: path.join(ARTIFACTS, 'flame-phone.png') });
    } finally {
      await phone.context.close();
    }
  }, 60_000);
});
