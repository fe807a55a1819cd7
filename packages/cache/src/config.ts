// Option resolution through core's ConfigReader: explicit option > PERISCOPE_CACHE_* environment
// variable > default. Every value is checked here, so a bad configuration fails at createCache()
// with one CacheConfigError naming the option (or variable), the accepted values and, for an
// unknown option, the nearest known one.
import os from 'node:os';
import path from 'node:path';
import { createConfigReader, type ConfigReader, type Env, type Logger } from '@periscope/core';
import type { Metrics } from '@periscope/metrics';
import { CacheConfigError } from './errors';
import type { L1Policy } from './memory-tier';
import type { RedisClient } from './redis-tier';
import type { Serializer } from './serializer';
import { parseRedisTarget, type RedisTarget } from './redis-url';

export interface L1Options {
  /** Eviction policy when a limit is reached. @default 'lru' (env PERISCOPE_CACHE_L1_POLICY) */
  policy?: L1Policy;
  /** @default 10000 (env PERISCOPE_CACHE_L1_MAX_ENTRIES) */
  maxEntries?: number;
  /** 0 = no byte limit. Sizes are serialized sizes. @default 0 (env PERISCOPE_CACHE_L1_MAX_BYTES) */
  maxBytes?: number;
  /** Shortens each L1 entry's TTL by up to this fraction [0, 1) so instances do not expire together. @default 0 */
  jitter?: number;
}

export interface L2Options {
  /**
   * Where Redis is; the cache owns (and closes) this connection. `redis://` / `rediss://` (one node),
   * `redis+cluster://[:pw@]h1:p1,h2:p2` (Redis Cluster seeds) or
   * `redis+sentinel://[:pw@]h1:p1,h2:p2/mymaster` (Sentinels and the master's name).
   * @default env PERISCOPE_CACHE_L2_URL
   */
  url?: string;
  /** An existing ioredis Redis or Cluster client; the cache never closes it. */
  client?: RedisClient;
  /** Per-call timeout. @default 50 (env PERISCOPE_CACHE_L2_TIMEOUT_MS, e.g. "50ms") */
  timeoutMs?: number;
  /** @default 'periscope:cache:' */
  keyPrefix?: string;
  /** Bump to orphan every entry written by an older schema. @default '1' */
  version?: string | number;
  /** Deflate values whose serialized size is above this many bytes; 0 = never. @default 1024 */
  compressAboveBytes?: number;
  /** Consecutive failures that open a breaker (default 5) and how long it stays open before a probe (default 1000 ms). */
  breaker?: { failureThreshold?: number; resetMs?: number };
  /** Cap of the reconnect back-off. @default 2000 */
  reconnectMaxDelayMs?: number;
  /** A connection with commands pending and no byte received for this long is replaced (owned connections only). @default 1000 */
  socketTimeoutMs?: number;
  /** Distributed L1 invalidation over pub/sub. @default true (env PERISCOPE_CACHE_L2_BUS) */
  bus?: boolean;
  /** Writes that failed while L2 was down, kept (newest wins per key) to be retried when it returns; 0 = none. @default 0 (env PERISCOPE_CACHE_L2_RETRY_WRITES) */
  retryWrites?: number;
}

export interface L3Options {
  /**
   * Directory of the disk tier, created 0700 and refused when owned by another user.
   * @default env PERISCOPE_CACHE_L3_DIR, else $XDG_CACHE_HOME/periscope-cache, else <os.tmpdir()>/periscope-cache-<uid>
   */
  dir?: string;
  /** @default 256 MiB (env PERISCOPE_CACHE_L3_MAX_BYTES) */
  maxBytes?: number;
  /** Key of an HMAC-SHA-256 over every file (≥ 16 bytes); a file not written with it is a miss. @default env PERISCOPE_CACHE_L3_MAC_KEY, else none */
  macKey?: string | Buffer;
}

export interface DistributedLockOptions {
  /** Lock lease, renewed every third of it while the factory runs. @default 10000 */
  ttlMs?: number;
  /** How long other instances wait for the holder's value before computing themselves. @default 5000 */
  waitTimeoutMs?: number;
  /** How often waiters look for the value. @default 20 */
  pollMs?: number;
}

export interface CacheOptions {
  /** Names the cache in keys, metrics (label `cache`) and bus messages. */
  namespace: string;
  l1?: L1Options;
  l2?: L2Options;
  l3?: L3Options;
  /** @default 300000 (env PERISCOPE_CACHE_DEFAULT_TTL_MS) */
  defaultTtlMs?: number;
  /** How long after expiry a stale value may still be served (SWR, fail-safe). @default 0 (env PERISCOPE_CACHE_GRACE_MS) */
  graceMs?: number;
  /** Default soft timeout for getOrSet (0 = serve stale at once, refresh in background). @default 0 */
  softTimeoutMs?: number;
  /** Default hard timeout for getOrSet factories; 0 = none. @default 0 (env PERISCOPE_CACHE_HARD_TIMEOUT_MS) */
  hardTimeoutMs?: number;
  /** A stored value that inflates past this many bytes is a corrupt entry (miss, counted, deleted). @default 8 MiB (env PERISCOPE_CACHE_MAX_DECOMPRESSED_BYTES) */
  maxDecompressedBytes?: number;
  serializer?: Serializer;
  metrics?: Metrics;
  /** @default NOOP_LOGGER */
  logger?: Logger;
  /** Single flight across instances through a Redis lock (needs l2). @default false */
  distributedLock?: boolean | DistributedLockOptions;
  /** Background sweep of expired L1/L3 entries. @default 60000 */
  sweepIntervalMs?: number;
  /** close() waits this long for pending writes before dropping connections. @default 2000 (env PERISCOPE_CACHE_CLOSE_TIMEOUT_MS) */
  closeTimeoutMs?: number;
  /** Read instead of process.env. */
  env?: Env;
}

export interface ResolvedL2 {
  target?: RedisTarget;
  client?: RedisClient;
  timeoutMs: number;
  keyPrefix: string;
  version: string;
  compressAboveBytes: number;
  breaker: { failureThreshold: number; resetMs: number };
  reconnectMaxDelayMs: number;
  socketTimeoutMs: number;
  bus: boolean;
  retryWrites: number;
}

export interface ResolvedL3 {
  dir: string;
  maxBytes: number;
  macKey?: Buffer;
}

export interface ResolvedConfig {
  namespace: string;
  l1: Required<L1Options>;
  l2?: ResolvedL2;
  l3?: ResolvedL3;
  defaultTtlMs: number;
  graceMs: number;
  softTimeoutMs: number;
  hardTimeoutMs: number;
  maxDecompressedBytes: number;
  lock?: Required<DistributedLockOptions>;
  sweepIntervalMs: number;
  closeTimeoutMs: number;
}

const POLICIES: readonly L1Policy[] = ['lru', 'lfu', 'fifo', 'ttl'];
const KNOWN: readonly (keyof CacheOptions)[] = [
  'namespace',
  'l1',
  'l2',
  'l3',
  'defaultTtlMs',
  'graceMs',
  'softTimeoutMs',
  'hardTimeoutMs',
  'maxDecompressedBytes',
  'serializer',
  'metrics',
  'logger',
  'distributedLock',
  'sweepIntervalMs',
  'closeTimeoutMs',
  'env',
];
const KNOWN_L1: readonly (keyof L1Options)[] = ['policy', 'maxEntries', 'maxBytes', 'jitter'];
const KNOWN_L2: readonly (keyof L2Options)[] = [
  'url',
  'client',
  'timeoutMs',
  'keyPrefix',
  'version',
  'compressAboveBytes',
  'breaker',
  'reconnectMaxDelayMs',
  'socketTimeoutMs',
  'bus',
  'retryWrites',
];
const KNOWN_L3: readonly (keyof L3Options)[] = ['dir', 'maxBytes', 'macKey'];
const KNOWN_LOCK: readonly (keyof DistributedLockOptions)[] = ['ttlMs', 'waitTimeoutMs', 'pollMs'];
const MS = { min: 1 } as const;

export function resolveConfig(o: CacheOptions): ResolvedConfig {
  if (!o || typeof o !== 'object' || Array.isArray(o))
    throw new CacheConfigError('options', 'an object with at least { namespace }', o);
  const r = createConfigReader({
    env: o.env,
    error: (option, accepted, got, suggestion) => new CacheConfigError(option, accepted, got, suggestion),
  });
  r.rejectUnknown(o, KNOWN, 'createCache options');
  if (typeof o.namespace !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(o.namespace))
    r.fail('namespace', '1–64 characters of A–Z a–z 0–9 _ . -', o.namespace);
  if (o.serializer !== undefined && !isSerializer(o.serializer))
    r.fail('serializer', 'an object with serialize(value) → Buffer and deserialize(Buffer) → value', o.serializer);
  const l2 = o.l2 === undefined ? undefined : resolveL2(r, o.l2);
  if (o.distributedLock && !l2)
    r.fail('distributedLock', 'false unless l2 is configured (the lock lives in Redis)', true);
  return {
    namespace: o.namespace,
    l1: resolveL1(r, o.l1 ?? {}),
    l2,
    l3: o.l3 === undefined ? undefined : resolveL3(r, o.l3),
    defaultTtlMs: r.duration('defaultTtlMs', o.defaultTtlMs, {
      ...MS,
      env: 'PERISCOPE_CACHE_DEFAULT_TTL_MS',
      default: 300_000,
    }),
    graceMs: r.duration('graceMs', o.graceMs, { min: 0, env: 'PERISCOPE_CACHE_GRACE_MS', default: 0 }),
    softTimeoutMs: r.duration('softTimeoutMs', o.softTimeoutMs, { min: 0, default: 0 }),
    hardTimeoutMs: r.duration('hardTimeoutMs', o.hardTimeoutMs, {
      min: 0,
      env: 'PERISCOPE_CACHE_HARD_TIMEOUT_MS',
      default: 0,
    }),
    maxDecompressedBytes: r.integer('maxDecompressedBytes', o.maxDecompressedBytes, {
      min: 1024,
      env: 'PERISCOPE_CACHE_MAX_DECOMPRESSED_BYTES',
      default: 8 * 2 ** 20,
    }),
    lock: o.distributedLock ? resolveLock(r, o.distributedLock) : undefined,
    sweepIntervalMs: r.duration('sweepIntervalMs', o.sweepIntervalMs, { ...MS, default: 60_000 }),
    closeTimeoutMs: r.duration('closeTimeoutMs', o.closeTimeoutMs, {
      min: 0,
      max: 60_000,
      env: 'PERISCOPE_CACHE_CLOSE_TIMEOUT_MS',
      default: 2000,
    }),
  };
}

function isSerializer(s: unknown): boolean {
  const x = s as Partial<Serializer> | null;
  return typeof x?.serialize === 'function' && typeof x?.deserialize === 'function';
}

function section<T extends object>(r: ConfigReader, value: T, name: string, known: readonly string[]): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) r.fail(name, 'an options object', value);
  r.rejectUnknown(
    value,
    known.map((k) => k),
    name,
  );
  return value;
}

function resolveL1(r: ConfigReader, given: L1Options): Required<L1Options> {
  const x = section(r, given, 'l1', KNOWN_L1);
  const jitter = r.number('l1.jitter', x.jitter, { min: 0, max: 1, default: 0 });
  if (jitter >= 1) r.fail('l1.jitter', 'a number in [0, 1)', jitter);
  return {
    policy: r.oneOf('l1.policy', x.policy, POLICIES, { env: 'PERISCOPE_CACHE_L1_POLICY', default: 'lru' }),
    maxEntries: r.integer('l1.maxEntries', x.maxEntries, {
      min: 1,
      env: 'PERISCOPE_CACHE_L1_MAX_ENTRIES',
      default: 10_000,
    }),
    maxBytes: r.integer('l1.maxBytes', x.maxBytes, { min: 0, env: 'PERISCOPE_CACHE_L1_MAX_BYTES', default: 0 }),
    jitter,
  };
}

function resolveL2(r: ConfigReader, given: L2Options): ResolvedL2 {
  const x = section(r, given, 'l2', KNOWN_L2);
  let target: RedisTarget | undefined;
  if (x.client === undefined) {
    const url = r.string('l2.url', x.url, { env: 'PERISCOPE_CACHE_L2_URL', default: undefined });
    if (url === undefined)
      r.fail(
        'l2.url',
        'a redis:// URL or l2.client (an ioredis Redis or Cluster); leave l2 out to run without Redis',
        url,
      );
    target = parseRedisTarget(url, x.url !== undefined ? 'l2.url' : 'PERISCOPE_CACHE_L2_URL', r);
  }
  if (x.keyPrefix !== undefined && typeof x.keyPrefix !== 'string') r.fail('l2.keyPrefix', 'a string', x.keyPrefix);
  const b = x.breaker === undefined ? {} : section(r, x.breaker, 'l2.breaker', ['failureThreshold', 'resetMs']);
  return {
    target,
    client: x.client,
    timeoutMs: r.duration('l2.timeoutMs', x.timeoutMs, { ...MS, env: 'PERISCOPE_CACHE_L2_TIMEOUT_MS', default: 50 }),
    keyPrefix: x.keyPrefix ?? 'periscope:cache:',
    version: String(x.version ?? '1'),
    compressAboveBytes: r.integer('l2.compressAboveBytes', x.compressAboveBytes, { min: 0, default: 1024 }),
    breaker: {
      failureThreshold: r.integer('l2.breaker.failureThreshold', b.failureThreshold, { min: 1, default: 5 }),
      resetMs: r.duration('l2.breaker.resetMs', b.resetMs, { ...MS, default: 1000 }),
    },
    reconnectMaxDelayMs: r.duration('l2.reconnectMaxDelayMs', x.reconnectMaxDelayMs, { ...MS, default: 2000 }),
    socketTimeoutMs: r.duration('l2.socketTimeoutMs', x.socketTimeoutMs, { ...MS, default: 1000 }),
    bus: r.boolean('l2.bus', x.bus, { env: 'PERISCOPE_CACHE_L2_BUS', default: true }),
    retryWrites: r.integer('l2.retryWrites', x.retryWrites, {
      min: 0,
      max: 100_000,
      env: 'PERISCOPE_CACHE_L2_RETRY_WRITES',
      default: 0,
    }),
  };
}

function resolveL3(r: ConfigReader, given: L3Options): ResolvedL3 {
  const x = section(r, given, 'l3', KNOWN_L3);
  const dir = r.string('l3.dir', x.dir, { env: 'PERISCOPE_CACHE_L3_DIR', default: undefined }) ?? defaultL3Dir(r.env);
  let macKey: Buffer | undefined;
  if (x.macKey !== undefined && typeof x.macKey !== 'string' && !Buffer.isBuffer(x.macKey))
    r.fail('l3.macKey', 'a string or Buffer of at least 16 bytes', x.macKey);
  const key = x.macKey ?? r.raw('PERISCOPE_CACHE_L3_MAC_KEY');
  if (key !== undefined) {
    macKey = Buffer.isBuffer(key) ? Buffer.from(key) : Buffer.from(key, 'utf8');
    // Never echo the key: only its length.
    if (macKey.length < 16)
      r.fail(
        x.macKey !== undefined ? 'l3.macKey' : 'PERISCOPE_CACHE_L3_MAC_KEY',
        'at least 16 bytes',
        `${macKey.length} bytes`,
      );
  }
  return {
    dir: path.resolve(dir),
    maxBytes: r.integer('l3.maxBytes', x.maxBytes, {
      min: 1,
      env: 'PERISCOPE_CACHE_L3_MAX_BYTES',
      default: 256 * 2 ** 20,
    }),
    macKey,
  };
}

/** A per-user location: $XDG_CACHE_HOME/periscope-cache, else <tmpdir>/periscope-cache-<uid>. */
export function defaultL3Dir(env: Env): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'periscope-cache');
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : os.userInfo().username;
  return path.join(os.tmpdir(), `periscope-cache-${uid}`);
}

function resolveLock(r: ConfigReader, given: true | DistributedLockOptions): Required<DistributedLockOptions> {
  const d = typeof given === 'object' ? section(r, given, 'distributedLock', KNOWN_LOCK) : {};
  return {
    ttlMs: r.duration('distributedLock.ttlMs', d.ttlMs, { ...MS, default: 10_000 }),
    waitTimeoutMs: r.duration('distributedLock.waitTimeoutMs', d.waitTimeoutMs, { ...MS, default: 5_000 }),
    pollMs: r.duration('distributedLock.pollMs', d.pollMs, { ...MS, default: 20 }),
  };
}
