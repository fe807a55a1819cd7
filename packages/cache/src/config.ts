// Option resolution: explicit option > PERISCOPE_CACHE_* environment variable > default.
// Every value is checked here, so a bad configuration fails at createCache() with one error
// naming the option (or variable) and the accepted values.
import type { Metrics } from '@periscope/metrics';
import { CacheConfigError } from './errors';
import type { L1Policy } from './memory-tier';
import type { RedisClient } from './redis-tier';
import type { Serializer } from './serializer';
import type { CacheLogger } from './logger';

export interface L1Options {
  /** Eviction policy when a limit is reached. Default 'lru' (env PERISCOPE_CACHE_L1_POLICY). */
  policy?: L1Policy;
  /** Default 10 000 (env PERISCOPE_CACHE_L1_MAX_ENTRIES). */
  maxEntries?: number;
  /** 0 = no byte limit. Default 0 (env PERISCOPE_CACHE_L1_MAX_BYTES). Sizes are serialized sizes. */
  maxBytes?: number;
  /** Shortens each L1 entry's TTL by up to this fraction (0–1) so instances do not expire together. Default 0. */
  jitter?: number;
}

export interface L2Options {
  /** redis:// or rediss:// URL; the cache owns (and closes) this connection. */
  url?: string;
  /** An existing ioredis Redis or Cluster client; the cache never closes it. */
  client?: RedisClient;
  /** Per-call timeout. Default 50 (env PERISCOPE_CACHE_L2_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Default 'periscope:cache:'. */
  keyPrefix?: string;
  /** Bump to orphan every entry written by an older schema. Default '1'. */
  version?: string | number;
  /** Deflate values whose serialized size is above this many bytes; 0 = never. Default 1024. */
  compressAboveBytes?: number;
  /** Consecutive failures that open the breaker (default 5) and how long it stays open before a probe (default 1000 ms). */
  breaker?: { failureThreshold?: number; resetMs?: number };
  /** Cap of the reconnect back-off. Default 2000. */
  reconnectMaxDelayMs?: number;
  /** A connection with commands pending and no byte received for this long is replaced (black-hole detection; owned connections only). Default 1000. */
  socketTimeoutMs?: number;
  /** Distributed L1 invalidation over pub/sub. Default true. */
  bus?: boolean;
}

export interface L3Options {
  dir: string;
  /** Default 256 MiB (env PERISCOPE_CACHE_L3_MAX_BYTES). */
  maxBytes?: number;
}

export interface DistributedLockOptions {
  /** Lock lease, renewed every third of it while the factory runs. Default 10 000. */
  ttlMs?: number;
  /** How long other instances wait for the holder's value before computing themselves. Default 5000. */
  waitTimeoutMs?: number;
  /** How often waiters look for the value. Default 20. */
  pollMs?: number;
}

export interface CacheOptions {
  /** Names the cache in keys, metrics (label `cache`) and bus messages. */
  namespace: string;
  l1?: L1Options;
  l2?: L2Options;
  l3?: L3Options;
  /** Default 300 000 (env PERISCOPE_CACHE_DEFAULT_TTL_MS). */
  defaultTtlMs?: number;
  /** How long after expiry a stale value may still be served (SWR, fail-safe). Default 0 (env PERISCOPE_CACHE_GRACE_MS). */
  graceMs?: number;
  /** Default soft timeout for getOrSet (0 = serve stale at once, refresh in background). Default 0. */
  softTimeoutMs?: number;
  /** Default hard timeout for getOrSet factories; 0 = none. Default 0 (env PERISCOPE_CACHE_HARD_TIMEOUT_MS). */
  hardTimeoutMs?: number;
  serializer?: Serializer;
  metrics?: Metrics;
  logger?: CacheLogger;
  /** Single flight across instances through a Redis lock (needs l2). Default false. */
  distributedLock?: boolean | DistributedLockOptions;
  /** Background sweep of expired L1/L3 entries. Default 60 000. */
  sweepIntervalMs?: number;
}

export interface ResolvedConfig {
  namespace: string;
  l1: Required<L1Options>;
  l2?: Required<Omit<L2Options, 'url' | 'client' | 'breaker'>> & {
    url?: string;
    client?: RedisClient;
    breaker: { failureThreshold: number; resetMs: number };
  };
  l3?: Required<L3Options>;
  defaultTtlMs: number;
  graceMs: number;
  softTimeoutMs: number;
  hardTimeoutMs: number;
  lock?: Required<DistributedLockOptions>;
  sweepIntervalMs: number;
}

const POLICIES: readonly L1Policy[] = ['lru', 'lfu', 'fifo', 'ttl'];

function num(
  option: string,
  env: string | undefined,
  given: number | undefined,
  def: number,
  check: (n: number) => boolean,
  accepted: string,
): number {
  if (given !== undefined) {
    if (typeof given !== 'number' || !check(given)) throw new CacheConfigError(option, accepted, given);
    return given;
  }
  const raw = env ? process.env[env] : undefined;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!check(n)) throw new CacheConfigError(`${env} (${option})`, accepted, raw);
    return n;
  }
  return def;
}

const positive = (n: number) => Number.isFinite(n) && n > 0;
const nonNegative = (n: number) => Number.isFinite(n) && n >= 0;
const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
const nonNegativeInt = (n: number) => Number.isInteger(n) && n >= 0;

export function resolveConfig(o: CacheOptions): ResolvedConfig {
  if (!o || typeof o !== 'object') throw new CacheConfigError('options', 'an object with at least { namespace }', o);
  if (typeof o.namespace !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(o.namespace)) {
    throw new CacheConfigError('namespace', '1–64 characters of A–Z a–z 0–9 _ . -', o.namespace);
  }
  const l1o = o.l1 ?? {};
  const policyRaw = l1o.policy ?? (process.env.PERISCOPE_CACHE_L1_POLICY || 'lru');
  if (!POLICIES.includes(policyRaw as L1Policy))
    throw new CacheConfigError(
      l1o.policy !== undefined ? 'l1.policy' : 'PERISCOPE_CACHE_L1_POLICY (l1.policy)',
      POLICIES.map((p) => `'${p}'`).join(' | '),
      policyRaw,
    );
  const l1: Required<L1Options> = {
    policy: policyRaw as L1Policy,
    maxEntries: num(
      'l1.maxEntries',
      'PERISCOPE_CACHE_L1_MAX_ENTRIES',
      l1o.maxEntries,
      10_000,
      positiveInt,
      'a positive integer',
    ),
    maxBytes: num(
      'l1.maxBytes',
      'PERISCOPE_CACHE_L1_MAX_BYTES',
      l1o.maxBytes,
      0,
      nonNegativeInt,
      'a non-negative integer (0 = no limit)',
    ),
    jitter: num(
      'l1.jitter',
      undefined,
      l1o.jitter,
      0,
      (n) => Number.isFinite(n) && n >= 0 && n < 1,
      'a number in [0, 1)',
    ),
  };

  let l2: ResolvedConfig['l2'];
  if (o.l2 !== undefined) {
    const x = o.l2;
    if (!x.client && (typeof x.url !== 'string' || !/^rediss?:\/\//.test(x.url))) {
      throw new CacheConfigError(
        'l2.url',
        'a redis:// or rediss:// URL, or l2.client (an ioredis Redis or Cluster); leave l2 out to run without Redis',
        x.url === undefined ? undefined : 'a string that is not a redis URL',
      );
    }
    if (x.keyPrefix !== undefined && typeof x.keyPrefix !== 'string')
      throw new CacheConfigError('l2.keyPrefix', 'a string', x.keyPrefix);
    l2 = {
      url: x.url,
      client: x.client,
      timeoutMs: num(
        'l2.timeoutMs',
        'PERISCOPE_CACHE_L2_TIMEOUT_MS',
        x.timeoutMs,
        50,
        positive,
        'a positive number of milliseconds',
      ),
      keyPrefix: x.keyPrefix ?? 'periscope:cache:',
      version: String(x.version ?? '1'),
      compressAboveBytes: num(
        'l2.compressAboveBytes',
        undefined,
        x.compressAboveBytes,
        1024,
        nonNegativeInt,
        'a non-negative integer (0 = never)',
      ),
      breaker: {
        failureThreshold: num(
          'l2.breaker.failureThreshold',
          undefined,
          x.breaker?.failureThreshold,
          5,
          positiveInt,
          'a positive integer',
        ),
        resetMs: num(
          'l2.breaker.resetMs',
          undefined,
          x.breaker?.resetMs,
          1000,
          positive,
          'a positive number of milliseconds',
        ),
      },
      reconnectMaxDelayMs: num(
        'l2.reconnectMaxDelayMs',
        undefined,
        x.reconnectMaxDelayMs,
        2000,
        positive,
        'a positive number of milliseconds',
      ),
      socketTimeoutMs: num(
        'l2.socketTimeoutMs',
        undefined,
        x.socketTimeoutMs,
        1000,
        positive,
        'a positive number of milliseconds',
      ),
      bus: x.bus ?? true,
    };
  }

  let l3: ResolvedConfig['l3'];
  if (o.l3 !== undefined) {
    if (typeof o.l3.dir !== 'string' || o.l3.dir === '')
      throw new CacheConfigError('l3.dir', 'a directory path', o.l3.dir);
    l3 = {
      dir: o.l3.dir,
      maxBytes: num(
        'l3.maxBytes',
        'PERISCOPE_CACHE_L3_MAX_BYTES',
        o.l3.maxBytes,
        256 * 2 ** 20,
        positiveInt,
        'a positive integer',
      ),
    };
  }

  let lock: ResolvedConfig['lock'];
  if (o.distributedLock) {
    if (!l2)
      throw new CacheConfigError('distributedLock', 'false unless l2 is configured (the lock lives in Redis)', true);
    const d = typeof o.distributedLock === 'object' ? o.distributedLock : {};
    lock = {
      ttlMs: num('distributedLock.ttlMs', undefined, d.ttlMs, 10_000, positive, 'a positive number of milliseconds'),
      waitTimeoutMs: num(
        'distributedLock.waitTimeoutMs',
        undefined,
        d.waitTimeoutMs,
        5_000,
        positive,
        'a positive number of milliseconds',
      ),
      pollMs: num('distributedLock.pollMs', undefined, d.pollMs, 20, positive, 'a positive number of milliseconds'),
    };
  }
  if (
    o.serializer !== undefined &&
    (typeof o.serializer?.serialize !== 'function' || typeof o.serializer?.deserialize !== 'function')
  ) {
    throw new CacheConfigError(
      'serializer',
      'an object with serialize(value) → Buffer and deserialize(Buffer) → value',
      o.serializer,
    );
  }

  return {
    namespace: o.namespace,
    l1,
    l2,
    l3,
    defaultTtlMs: num(
      'defaultTtlMs',
      'PERISCOPE_CACHE_DEFAULT_TTL_MS',
      o.defaultTtlMs,
      300_000,
      positive,
      'a positive number of milliseconds',
    ),
    graceMs: num(
      'graceMs',
      'PERISCOPE_CACHE_GRACE_MS',
      o.graceMs,
      0,
      nonNegative,
      'a non-negative number of milliseconds',
    ),
    softTimeoutMs: num(
      'softTimeoutMs',
      undefined,
      o.softTimeoutMs,
      0,
      nonNegative,
      'a non-negative number of milliseconds',
    ),
    hardTimeoutMs: num(
      'hardTimeoutMs',
      'PERISCOPE_CACHE_HARD_TIMEOUT_MS',
      o.hardTimeoutMs,
      0,
      nonNegative,
      'a non-negative number of milliseconds (0 = none)',
    ),
    lock,
    sweepIntervalMs: num(
      'sweepIntervalMs',
      undefined,
      o.sweepIntervalMs,
      60_000,
      positive,
      'a positive number of milliseconds',
    ),
  };
}
