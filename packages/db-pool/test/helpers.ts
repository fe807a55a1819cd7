// Shared by this package's tests: unique names on the shared test database, a capturing logger,
// and polling for a condition instead of sleeping.
import { randomBytes } from 'node:crypto';
import type { Logger } from '@periscope/core';
import type { DbPool } from '../src';

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export interface CapturedLog {
  level: string;
  message: string;
  meta?: Record<string, unknown>;
}

export function captureLogger(): Logger & { records: CapturedLog[] } {
  const records: CapturedLog[] = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => {
    records.push({ level, message, meta });
  };
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Holds one connection until the returned function is called. */
export async function hold(pool: DbPool): Promise<() => Promise<void>> {
  let release!: () => void;
  const held = pool.withConnection(
    () =>
      new Promise<void>((r) => {
        release = r;
      }),
  );
  await waitFor(() => release !== undefined, 3000, 'connection borrowed');
  return async () => {
    release();
    await held;
  };
}
