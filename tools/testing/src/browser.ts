// Headless Chromium for the page tests (Debian's `chromium`, driven by playwright-core): launched
// with the flags this closed network needs, and pages that record every dialog and console error,
// so a test can assert that no script ran and nothing failed.
import fs from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/** Launches Chromium; a missing binary fails with the line that installs it (never a skip). */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (the Debian package; .ci/run installs it)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Messages of dialogs that opened (each dismissed): an XSS shows up here. */
  dialogs: string[];
  /** Console errors and uncaught page errors. */
  errors: string[];
}

/** A page in a fresh context (laptop size by default) whose dialogs and errors are recorded. */
export async function openWatchedPage(
  browser: Browser,
  options: { width?: number; height?: number; bypassCSP?: boolean } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    bypassCSP: options.bypassCSP ?? false,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(45_000); // the machine may be loaded: generous, but bounded
  const w: WatchedPage = { context, page, dialogs: [], errors: [] };
  page.on('dialog', (d) => {
    w.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') w.errors.push(m.text());
  });
  page.on('pageerror', (e) => w.errors.push(String(e)));
  return w;
}
