// Shared by the L3 tier's mutation suites (disk-tier.mutation and disk-tier-startup.mutation): a tier
// on a real directory with its own metrics registry, envelopes at a fixed clock, and file names.
import { readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createMetrics } from '@periscope/metrics';
import { defaultSerializer } from '../src';
import { DiskTier } from '../src/disk-tier';
import { TierCounters } from '../src/instrumentation';
import { Codec } from '../src/serializer';
import { Fixture } from './helpers';

export const T0 = 1_700_000_000_000;
export const HOUR = 3_600_000;
export const codec = new Codec(defaultSerializer, 0);
export const envelope = (value: unknown, staleUntil = T0 + HOUR, tags: string[] = []) =>
  codec.encode(codec.payload(value), { createdAt: T0, expiresAt: staleUntil, staleUntil, tags });
export const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export async function read(t: DiskTier, key: string, now = T0): Promise<unknown> {
  const env = await t.get(key, now);
  return env === null ? null : codec.decode(env).value;
}

export const files = (dir: string) => readdirSync(dir).sort();

/**
 * Fake clocks only — Date.now(), and performance.now() when `performance` is set — so file I/O keeps
 * its real timers. Undo with jest.useRealTimers().
 */
export function fakeClocksOnly({ now, performance = false }: { now?: number; performance?: boolean }): void {
  const realTimers = [
    'setTimeout',
    'setImmediate',
    'setInterval',
    'nextTick',
    'queueMicrotask',
    'clearTimeout',
    'clearInterval',
    'clearImmediate',
    'hrtime',
  ] as const;
  jest.useFakeTimers({
    ...(now === undefined ? {} : { now }),
    doNotFake: performance ? [...realTimers] : [...realTimers, 'performance'],
  });
}

/**
 * Call once at the top of a suite: temp dirs are removed after each test and every test gets a fresh
 * metrics registry, which `tier()` instruments and `errorsOf()` / `timed()` read from the exposition.
 */
export function diskTierHarness() {
  const fx = new Fixture();
  afterEach(() => fx.dispose());

  let metrics = createMetrics();
  beforeEach(() => {
    metrics = createMetrics();
  });
  /** A sample of the exposition, e.g. errors('corrupt') → periscope_cache_errors_total{…,kind="corrupt"}. */
  async function sample(name: string, label: string): Promise<number> {
    const { body } = await metrics.expose();
    const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  const errorsOf = (kind: string) => sample('periscope_cache_errors_total', `kind="${kind}"`);
  const timed = (op: string) => sample('periscope_cache_operation_duration_seconds_count', `operation="${op}"`);

  function tier(dir: string, extra: { maxBytes?: number; macKey?: Buffer; scope?: string } = {}) {
    const counters = new TierCounters('l3', 'test', metrics);
    const t = new DiskTier(
      { dir, scope: extra.scope ?? 'ns:v1', maxBytes: extra.maxBytes ?? 2 ** 30, ...extra },
      counters,
    );
    return { t, counters };
  }

  return { fx, tier, errorsOf, timed };
}
