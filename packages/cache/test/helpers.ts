// Test helpers: a unique Redis namespace and a temp dir per cache, closed after each test.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createCache, type Cache, type CacheOptions } from '../src';

export function uniqueNs(label: string): string {
  return `t-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Tracks caches and dirs made during a test file and disposes of them. */
export class Fixture {
  private readonly caches: Cache[] = [];
  private readonly dirs: string[] = [];
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  cache(options: CacheOptions): Cache {
    const c = createCache(options);
    this.caches.push(c);
    return c;
  }

  dir(): string {
    const d = mkdtempSync(path.join(os.tmpdir(), 'periscope-cache-'));
    this.dirs.push(d);
    return d;
  }

  onCleanup(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  async dispose(): Promise<void> {
    await Promise.all(this.caches.splice(0).map((c) => c.close()));
    for (const fn of this.cleanups.splice(0).reverse()) await fn();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `check` is true or `timeoutMs` passes; returns whether it became true. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 2000,
  stepMs = 10,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}
