// L2: Redis through ioredis. Every call is bounded by a per-call timeout and guarded by a
// circuit breaker, so a dead or black-holed Redis costs at most one timeout and then almost
// nothing; the client reconnects in the background. Keys: <prefix><namespace>:v<version>:k:<key>.
import { Redis, Cluster, type RedisOptions } from 'ioredis';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { CircuitBreaker, type BreakerOptions } from './breaker';
import { L2UnavailableError } from './errors';
import type { BreakerState, TierCounters } from './instruments';
import type { CacheLogger } from './logger';
import { redactUrl } from './logger';

export type RedisClient = Redis | Cluster;

export interface RedisTierOptions {
  url?: string;
  client?: RedisClient;
  namespace: string;
  keyPrefix: string;
  version: string;
  timeoutMs: number;
  breaker: BreakerOptions;
  reconnectMaxDelayMs: number;
  socketTimeoutMs: number;
}

const tracer = trace.getTracer('@periscope/cache');
const CLIENT_SPAN = { kind: SpanKind.CLIENT };

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function ownedRedisOptions(reconnectMaxDelayMs: number, socketTimeoutMs: number): RedisOptions {
  return {
    // A connection that takes commands but answers nothing (black-holed) is destroyed after this
    // long and replaced, so L2 comes back on its own once the network does.
    socketTimeout: socketTimeoutMs,
    // No auto-pipelining: it defers every write to a later tick, which costs a sequential caller
    // more than batching saves; concurrent commands still pipeline on the socket.
    enableAutoPipelining: false,
    // A request waits through at most one reconnection; our own timeout bounds it anyway.
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // After close, a socket whose peer never finishes the FIN handshake is destroyed this soon.
    disconnectTimeout: 200,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), reconnectMaxDelayMs),
  };
}

export class RedisTier {
  readonly client: RedisClient;
  readonly base: string;
  readonly channel: string;
  private readonly owned: boolean;
  private readonly breaker: CircuitBreaker;
  private everReady: boolean;
  private closed = false;
  private readonly openError = new L2UnavailableError('breaker_open');
  private readonly downError = new L2UnavailableError('disconnected');
  private warnedDown = false;
  /** performance.now() of the last reply; a ready connection silent past socketTimeoutMs is black-holed. */
  private lastReplyAt = performance.now();
  private replacing = false;
  private pendingGets: { key: string; resolve: (v: Buffer | null) => void; reject: (e: unknown) => void }[] | null =
    null;
  private readonly where: string;

  constructor(
    private readonly options: RedisTierOptions,
    private readonly counters: TierCounters,
    private readonly onBreaker: (state: BreakerState) => void,
    private readonly logger?: CacheLogger,
  ) {
    this.base = `${options.keyPrefix}${options.namespace}:v${options.version}:`;
    this.channel = `${this.base}bus`;
    this.breaker = new CircuitBreaker(options.breaker, (s) => this.breakerChanged(s));
    if (options.client) {
      this.client = options.client;
      this.owned = false;
      this.where = 'the given client';
    } else {
      this.client = new Redis(options.url!, ownedRedisOptions(options.reconnectMaxDelayMs, options.socketTimeoutMs));
      this.owned = true;
      this.where = redactUrl(options.url!);
    }
    this.everReady = this.client.status === 'ready';
    // Without an 'error' listener ioredis reports every failed reconnect as unhandled.
    this.client.on('error', this.onError);
    this.client.on('close', this.onClose);
    this.client.on('ready', this.onReady);
  }

  private readonly onError = () => this.counters.error('connection');
  private readonly onClose = () => {
    this.replacing = false;
  };
  private readonly onReady = () => {
    this.everReady = true;
    this.replacing = false;
    this.lastReplyAt = performance.now();
    // Reconnected: let traffic through now rather than waiting for the next probe.
    this.breaker.success();
  };

  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  dataKey(key: string): string {
    return `${this.base}k:${key}`;
  }
  private tagKey(tag: string): string {
    return `${this.base}t:${tag}`;
  }
  lockKey(key: string): string {
    return `${this.base}l:${key}`;
  }

  get(key: string): Promise<Buffer | null> {
    return this.guarded<Buffer | null>('GET', (ok, fail) => this.enqueueGet(this.dataKey(key), ok, fail));
  }

  /**
   * GETs issued in the same tick go out as one pipeline (one socket write); a lone GET goes
   * straight out. Unlike ioredis auto-pipelining (setImmediate), this waits only for a microtask,
   * so a sequential caller pays nothing. Cluster: per-key commands (slots may differ).
   */
  private enqueueGet(redisKey: string, resolve: (v: Buffer | null) => void, reject: (e: unknown) => void): void {
    if (this.pendingGets === null) {
      this.pendingGets = [];
      queueMicrotask(() => this.flushGets());
    }
    this.pendingGets.push({ key: redisKey, resolve, reject });
  }

  private flushGets(): void {
    const batch = this.pendingGets!;
    this.pendingGets = null;
    if (batch.length === 1 || this.client instanceof Cluster) {
      for (const g of batch) this.client.getBuffer(g.key).then(g.resolve, g.reject);
      return;
    }
    const pipeline = this.client.pipeline();
    for (const g of batch) pipeline.getBuffer(g.key);
    pipeline.exec().then(
      (results) => {
        batch.forEach((g, i) => {
          const [err, value] = results?.[i] ?? [new Error('pipeline returned no result'), null];
          if (err) g.reject(err);
          else g.resolve(value as Buffer | null);
        });
      },
      (err: unknown) => {
        for (const g of batch) g.reject(err);
      },
    );
  }

  async set(key: string, bytes: Buffer, pxMs: number, tags: readonly string[]): Promise<void> {
    const px = Math.max(1, Math.ceil(pxMs));
    await this.call('SET', (c) => {
      const ops: Promise<unknown>[] = [c.set(this.dataKey(key), bytes, 'PX', px)];
      for (const tag of tags) {
        const tk = this.tagKey(tag);
        // The tag set lives as long as its longest-lived member (NX sets a first TTL, GT extends it).
        ops.push(c.sadd(tk, key), c.pexpire(tk, px, 'NX'), c.pexpire(tk, px, 'GT'));
      }
      return Promise.all(ops);
    });
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (!keys.length) return;
    // One UNLINK per key so a Cluster routes each to its own slot.
    await this.call('UNLINK', (c) => Promise.all(keys.map((k) => c.unlink(this.dataKey(k)))));
  }

  /** Deletes every key carrying one of the tags; returns those keys. */
  async deleteByTags(tags: readonly string[]): Promise<string[]> {
    return this.call('DELETE_BY_TAG', async (c) => {
      const keys = new Set<string>();
      for (const tag of tags) {
        const members = await c.smembers(this.tagKey(tag));
        for (const m of members) keys.add(m);
      }
      await Promise.all([
        ...[...keys].map((k) => c.unlink(this.dataKey(k))),
        ...tags.map((t) => c.unlink(this.tagKey(t))),
      ]);
      return [...keys];
    });
  }

  /** Deletes every key of this namespace and version (SCAN, on every master of a Cluster). */
  async clear(): Promise<void> {
    await this.call(
      'CLEAR',
      async (c) => {
        const nodes = c instanceof Cluster ? c.nodes('master') : [c];
        await Promise.all(
          nodes.map(async (node) => {
            let cursor = '0';
            do {
              const [next, keys] = await node.scan(cursor, 'MATCH', `${this.base}[kt]:*`, 'COUNT', 500);
              cursor = next;
              if (keys.length) await Promise.all(keys.map((k) => node.unlink(k)));
            } while (cursor !== '0');
          }),
        );
      },
      // A SCAN over a large keyspace takes longer than a GET; give it room.
      Math.max(this.options.timeoutMs * 40, 2000),
    );
  }

  async lockAcquire(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.call('LOCK', (c) => c.set(this.lockKey(key), token, 'PX', ttlMs, 'NX'))) === 'OK';
  }
  async lockRenew(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.call('LOCK_RENEW', (c) => c.eval(RENEW, 1, this.lockKey(key), token, ttlMs))) === 1;
  }
  async lockRelease(key: string, token: string): Promise<boolean> {
    return (await this.call('LOCK_RELEASE', (c) => c.eval(RELEASE, 1, this.lockKey(key), token))) === 1;
  }

  async publish(message: string): Promise<void> {
    await this.call('PUBLISH', (c) => c.publish(this.channel, message));
  }

  /** Round trip with the per-call timeout, bypassing the breaker (for health checks). */
  async ping(): Promise<number> {
    const start = performance.now();
    await this.call('PING', (c) => c.ping(), this.options.timeoutMs, true);
    return performance.now() - start;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.owned) {
      // The caller's client outlives us: leave it as we found it.
      this.client.off('error', this.onError);
      this.client.off('close', this.onClose);
      this.client.off('ready', this.onReady);
      return;
    }
    try {
      await Promise.race([this.client.quit(), new Promise((r) => setTimeout(r, 200).unref())]);
    } catch {
      // quit on a dead connection rejects; disconnect below finishes the job.
    }
    this.client.disconnect();
  }

  /** Runs one L2 operation under the breaker, the per-call timeout and a span. */
  private call<T>(
    op: string,
    fn: (c: RedisClient) => Promise<T>,
    timeoutMs = this.options.timeoutMs,
    bypassBreaker = false,
  ): Promise<T> {
    return this.guarded(op, (ok, fail) => fn(this.client).then(ok, fail), timeoutMs, bypassBreaker);
  }

  /** call() for operations that report through callbacks (saves a promise on the GET path). */
  private guarded<T>(
    op: string,
    begin: (ok: (v: T) => void, fail: (e: unknown) => void) => void,
    timeoutMs = this.options.timeoutMs,
    bypassBreaker = false,
  ): Promise<T> {
    if (!bypassBreaker && !this.breaker.allow()) return Promise.reject(this.openError);
    const status = this.client.status;
    if (status === 'reconnecting' || status === 'end' || status === 'close' || (this.everReady && status !== 'ready')) {
      // Known to be down: fail now instead of queueing behind a reconnect.
      this.failure('disconnected');
      return Promise.reject(this.downError);
    }
    const span: Span = tracer.startSpan(op, CLIENT_SPAN);
    // Attributes only for a real SDK: with the no-op tracer this path allocates nothing more.
    if (span.isRecording())
      span.setAttributes({
        'db.system.name': 'redis',
        'db.operation.name': op,
        'cache.tier': 'l2',
        'cache.namespace': this.options.namespace,
      });
    const start = performance.now();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        this.failure('timeout');
        this.replaceIfSilent();
        const err = new L2UnavailableError('timeout', timeoutMs);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        span.end();
        reject(err);
      }, timeoutMs);
      begin(
        (value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.breaker.success();
          this.lastReplyAt = performance.now();
          this.counters.latency(op, this.lastReplyAt - start);
          span.end();
          resolve(value);
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.failure('error');
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          span.end();
          reject(err);
        },
      );
    });
  }

  /**
   * A connection that looks ready but has answered nothing for socketTimeoutMs is black-holed
   * (ioredis' own socketTimeout does not always catch it): drop it so ioredis reconnects. Only
   * our own connection, once per outage; a merely slow Redis keeps answering and is left alone.
   */
  private replaceIfSilent(): void {
    if (!this.owned || this.replacing || this.client.status !== 'ready') return;
    if (performance.now() - this.lastReplyAt < this.options.socketTimeoutMs) return;
    this.replacing = true;
    this.counters.error('black_holed');
    (this.client as Redis).disconnect(true);
  }

  private failure(kind: 'timeout' | 'disconnected' | 'error'): void {
    this.counters.error(kind);
    this.breaker.failure();
  }

  private breakerChanged(state: BreakerState): void {
    this.onBreaker(state);
    if (state === 'open' && !this.warnedDown) {
      this.warnedDown = true;
      this.logger?.warn(
        `cache ${this.options.namespace}: L2 Redis at ${this.where} is unreachable; serving from L1/L3 until it returns`,
      );
    } else if (state === 'closed' && this.warnedDown) {
      this.warnedDown = false;
      this.logger?.info?.(`cache ${this.options.namespace}: L2 Redis at ${this.where} is back`);
    }
  }
}
