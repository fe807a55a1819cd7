// A lease ledger in Redis shared by the worker processes of one host, so that they do not
// oversubscribe the same GPUs. One hash per device (field: lease id, value: owner|MiB|exclusive|
// expiry ms); every check-and-write is one Lua script (atomic), time is Redis' own (TIME), and an
// entry lives `ttlMs` unless its process renews it: a crashed process's leases expire by themselves.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { createConfigReader, NOOP_LOGGER, redactUrl, type Env, type Logger } from '@periscope/core';
import type Redis from 'ioredis';

// ioredis is an optional peer, loaded when a ledger is created: a pool without a ledger (the
// common case) never loads it.
function loadRedis(): typeof Redis {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, synchronous load of an optional peer
    const mod = require('ioredis') as { default?: typeof Redis } & typeof Redis;
    return mod.default ?? mod;
  } catch {
    throw new GpuPoolConfigError('ledger', 'the ioredis package installed (npm install ioredis)', 'ioredis missing');
  }
}
import { GpuLedgerError, GpuPoolConfigError } from './errors';
import type { GpuLedger, LedgerAnswer, LedgerClaim } from './ledger';

export interface RedisLedgerOptions {
  /** Redis URL. Env `REDIS_URL`. Default `redis://127.0.0.1:6379`. Ignored when `redis` is given. */
  url?: string;
  /** A client of your own (not closed by the ledger). */
  /** An ioredis client of your own (not closed by the ledger). Typed structurally so these
   *  declarations do not need ioredis' types when no ledger is used. */
  redis?: object;
  /** Key prefix; processes sharing GPUs use the same. Env `PERISCOPE_GPU_LEDGER_PREFIX`. Default `'periscope:gpu'`. */
  prefix?: string;
  /** An entry not renewed for this long is dropped. Env `PERISCOPE_GPU_LEDGER_TTL`. Default `15000`. */
  ttlMs?: number;
  /** Renewal period. Default `ttlMs / 3`. */
  heartbeatMs?: number;
  logger?: Logger;
  env?: Env;
}

// Shared preamble: reads one device hash, drops expired entries, sums memory (all, and others').
const SCAN = `
local function scan(key, owner, now)
  local all, others, count, excl = 0, 0, 0, false
  local h = redis.call('HGETALL', key)
  for i = 1, #h, 2 do
    local o, mb, x, exp = string.match(h[i + 1], '^(.*)|([%d.]+)|(%d)|(%d+)$')
    if exp == nil or tonumber(exp) <= now then
      redis.call('HDEL', key, h[i])
    else
      all = all + tonumber(mb)
      count = count + 1
      if x == '1' then excl = true end
      if o ~= owner then others = others + tonumber(mb) end
    end
  end
  return all, others, count, excl
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS: device hashes. ARGV: leaseId, owner, ttlMs, exclusive, then totalMb, needMb per key.
const RESERVE = `${SCAN}
local ttl, exclusive = tonumber(ARGV[3]), ARGV[4]
local ok, taken = true, {}
for i, key in ipairs(KEYS) do
  local total, need = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  local all, others, count, excl = scan(key, ARGV[2], now)
  taken[i] = tostring(others)
  if excl or (exclusive == '1' and count > 0) or all + need > total then ok = false end
end
if not ok then return {0, unpack(taken)} end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, ARGV[1], ARGV[2] .. '|' .. ARGV[4 + 2 * i] .. '|' .. exclusive .. '|' .. (now + ttl))
  redis.call('PEXPIRE', key, ttl * 4)
end
return {1}`;

// KEYS: device hashes. ARGV: owner, ttlMs (0: read only). Renews the owner's entries; returns others' MiB per key.
const HEARTBEAT = `${SCAN}
local ttl = tonumber(ARGV[2])
local out = {}
for i, key in ipairs(KEYS) do
  local all, others = scan(key, ARGV[1], now)
  out[i] = tostring(others)
  if ttl > 0 then
    local h = redis.call('HGETALL', key)
    for j = 1, #h, 2 do
      local o, rest = string.match(h[j + 1], '^(.*)|([%d.]+|%d)|%d+$')
      if o == ARGV[1] then redis.call('HSET', key, h[j], o .. '|' .. rest .. '|' .. (now + ttl)) end
    end
    if #h > 0 then redis.call('PEXPIRE', key, ttl * 4) end
  end
end
return out`;

const KNOWN = ['url', 'redis', 'prefix', 'ttlMs', 'heartbeatMs', 'logger', 'env'] as const;

class RedisLedger implements GpuLedger {
  private readonly redis: Redis;
  private readonly own: boolean;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly owner = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly devices = new Set<string>();
  private readonly listeners: (() => void)[] = [];
  private readonly logger: Logger;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(options: RedisLedgerOptions) {
    const r = createConfigReader({
      env: options.env,
      error: (o, a, g, s) => new GpuPoolConfigError(o, a, g, s),
      scope: 'ledger',
    });
    r.rejectUnknown(options, KNOWN);
    this.prefix = r.string('prefix', options.prefix, { env: 'PERISCOPE_GPU_LEDGER_PREFIX', default: 'periscope:gpu' });
    this.ttlMs = r.duration('ttlMs', options.ttlMs, { env: 'PERISCOPE_GPU_LEDGER_TTL', default: 15_000, min: 100 });
    const heartbeatMs = r.duration('heartbeatMs', options.heartbeatMs, {
      default: Math.floor(this.ttlMs / 3),
      min: 10,
      max: this.ttlMs,
    });
    this.logger = options.logger ?? NOOP_LOGGER;
    this.own = options.redis === undefined;
    if (options.redis !== undefined) this.redis = options.redis as Redis;
    else {
      const url = r.url('url', options.url, {
        env: 'REDIS_URL',
        default: 'redis://127.0.0.1:6379',
        protocols: ['redis:', 'rediss:'],
      });
      this.redis = new (loadRedis())(url, { maxRetriesPerRequest: 2, lazyConnect: false, enableOfflineQueue: true });
      this.redis.on('error', (err: Error) =>
        this.logger.warn('GPU ledger: Redis error', { url: redactUrl(url), error: err.message }),
      );
    }
    this.timer = setInterval(() => void this.heartbeat(), heartbeatMs);
    this.timer.unref();
  }

  private key(uuid: string): string {
    return `${this.prefix}:dev:${uuid}`;
  }

  async reserve(claim: LedgerClaim): Promise<LedgerAnswer> {
    for (const d of claim.devices) this.devices.add(d.uuid);
    const args: (string | number)[] = [claim.leaseId, this.owner, this.ttlMs, claim.exclusive ? 1 : 0];
    for (const d of claim.devices) args.push(d.totalMb, d.needMb);
    const out = (await this.call(
      RESERVE,
      claim.devices.map((d) => this.key(d.uuid)),
      args,
    )) as (number | string)[];
    if (out[0] === 1) return { ok: true };
    const takenMb: Record<string, number> = {};
    claim.devices.forEach((d, i) => (takenMb[d.uuid] = Number(out[i + 1])));
    return { ok: false, takenMb };
  }

  async release(leaseId: string, uuids: readonly string[]): Promise<void> {
    if (this.closed) return;
    const multi = this.redis.multi();
    for (const u of uuids) multi.hdel(this.key(u), leaseId);
    await multi.exec();
  }

  async othersMb(uuids: readonly string[]): Promise<Record<string, number>> {
    for (const u of uuids) this.devices.add(u);
    const out = (await this.call(
      HEARTBEAT,
      uuids.map((u) => this.key(u)),
      [this.owner, 0],
    )) as string[];
    const taken: Record<string, number> = {};
    uuids.forEach((u, i) => (taken[u] = Number(out[i])));
    return taken;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private async heartbeat(): Promise<void> {
    if (this.closed || this.devices.size === 0) return;
    try {
      const uuids = [...this.devices];
      await this.call(
        HEARTBEAT,
        uuids.map((u) => this.key(u)),
        [this.owner, this.ttlMs],
      );
    } catch (err) {
      this.logger.warn('GPU ledger heartbeat failed; leases expire unless it recovers', {
        error: (err as Error).message,
      });
    }
    for (const l of this.listeners) l();
  }

  private async call(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    if (this.closed) throw new GpuLedgerError('the GPU ledger is closed');
    try {
      return await this.redis.eval(script, keys.length, ...keys, ...args);
    } catch (err) {
      throw new GpuLedgerError(`GPU ledger: ${(err as Error).message}`, err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    this.closed = true;
    if (!this.own) return;
    try {
      await Promise.race([this.redis.quit(), new Promise((r) => setTimeout(r, 2000).unref())]);
    } catch {
      // quit on a broken connection: nothing left to flush
    }
    this.redis.disconnect();
  }
}

/** A ledger shared through Redis; give it to `createGpuPool({ ledger })`, which closes it. */
export function createRedisLedger(options: RedisLedgerOptions = {}): GpuLedger {
  return new RedisLedger(options);
}
