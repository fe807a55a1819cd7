// The flame graph in a real browser: headless Chromium driven by playwright-core.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from '@periscope-tools/testing';
import { CpuProfile } from '../src';
import { synthProfile } from './helpers';

// Each sample weighs the time to the next: hotLoop 700 µs, parse 200, the hostile name 100.
// Names are user input: markup, quotes and script-closing text must come out as text.
const EVIL = '</script><img src=x onerror="window.pwned=1">';
const raw = synthProfile(
  [
    {
      stack: [
        { name: 'main', url: 'file:///app.js', line: 1 },
        { name: 'hotLoop', url: 'file:///app.js', line: 10 },
      ],
      deltaUs: 10,
    },
    {
      stack: [
        { name: 'main', url: 'file:///app.js', line: 1 },
        { name: 'parse', url: 'file:///lib.js', line: 3 },
      ],
      deltaUs: 700,
    },
    {
      stack: [
        { name: 'main', url: 'file:///app.js', line: 1 },
        { name: EVIL, url: 'file:///x"&<>.js', line: 2 },
      ],
      deltaUs: 200,
    },
  ],
  100,
);

let browser: Browser;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'periscope-flame-'));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('loads from disk, searches with matched %, zooms on click, resets; names stay text', async () => {
  const html = CpuProfile.fromCpuprofile(raw).toFlameGraphHtml({ title: `profile ${EVIL}` });
  const file = path.join(dir, 'flame.html');
  writeFileSync(file, html, { mode: 0o600 });
  const page = await browser.newPage();
  page.setDefaultTimeout(5000);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href);

  await expect(page.title()).resolves.toBe(`profile ${EVIL}`);
  expect(await page.locator('svg#flame rect').count()).toBeGreaterThanOrEqual(5);

  // Search: hotLoop is 700 of 1000 µs sampled.
  await page.fill('#search', 'hotloop');
  await expect(page.locator('#matched').textContent()).resolves.toBe('Matched: 70.00%');
  expect(await page.locator('rect.match').count()).toBe(1);

  // Click zooms: the clicked frame spans the full width.
  const parseGroup = page.locator('g', { has: page.locator('title', { hasText: /^parse/ }) });
  const parse = parseGroup.locator('rect');
  await parse.click();
  await expect(parse.getAttribute('width')).resolves.toBe('1200');
  const tooltip = await parseGroup.locator('title').textContent();
  expect(tooltip).toMatch(/self: 0\.20 ms \(20\.00%\)/);
  expect(tooltip).toMatch(/total: 0\.20 ms/);

  // Reset restores the whole view and clears the search.
  await page.click('#reset');
  await expect(page.locator('#matched').textContent()).resolves.toBe('');
  const hot = page.locator('g', { has: page.locator('title', { hasText: /^hotLoop/ }) }).locator('rect');
  expect(Number(await hot.getAttribute('width'))).toBeCloseTo((1200 * 700) / 1000, 0);

  // The hostile name is drawn as text, never run.
  expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
  expect(await page.locator('img').count()).toBe(0);
  await page.fill('#search', 'onerror');
  await expect(page.locator('#matched').textContent()).resolves.toBe('Matched: 10.00%');

  expect(errors).toEqual([]);
  expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
  await page.close();
});
