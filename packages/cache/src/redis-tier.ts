// L2: Redis through ioredis. Every call is bounded by a per-call timeout and guarded by a
// circuit breaker, so a dead or black-holed Redis costs at most one timeout and then almost
// nothing; the client reconnects in the background. Keys: <prefix><namespace>:v<version>:k:<key>.
import { Cluster } from 'ioredis';
import { context, trace, type Context, type Span } from '@opentelemetry/api';
import { isTracingSuppressed, suppressTracing } from '@opentelemetry/core';
import { NOOP_LOGGER, redactUrl, type Logger } from '@periscope/core';
import { BreakerSet, type BreakerOptions, type CircuitBreaker } from './breaker';
import { CacheConfigError, L2UnavailableError } from './errors';
import type { BreakerState, TierCounters } from './instrumentation';
import type { RedisTarget } from './redis-url';
import { WriteRetryQueue } from './write-retry';
import { closeClient, createRedisClient, type RedisClient } from './redis-client';
import { keySlot } from './slot';
import { failSpan, L2Spans, OPS, RELEASE_SCRIPT, RENEW_SCRIPT, type L2Op } from './redis-spans';

export type { RedisClient } from './redis-client';

export interface RedisTierOptions {
  target?: RedisTarget;
  client?: RedisClient;
  namespace: string;
  keyPrefix: string;
  version: string;
  timeoutMs: number;
  breaker: BreakerOptions;
  reconnectMaxDelayMs: number;
  socketTimeoutMs: number;
  /** Failed writes kept for a retry when L2 returns; 0 = none. */
  retryWrites: number;
}

const tracer = trace.getTracer('@periscope/cache');

export class RedisTier {
  readonly client: RedisClient;
  readonly base: string;
  readonly channel: string;
  private readonly owned: boolean;
  private readonly breakers: BreakerSet;
  /** The breaker of a single-node client (a Cluster has one per slot owner). */
  private readonly single?: CircuitBreaker;
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
  /** A recording span waits in pendingGets: the flush runs with tracing suppressed. */
  private suppressFlush = false;
  private readonly spans: L2Spans;
  private readonly where: string;
  private readonly retry?: WriteRetryQueue;
  /** Set when a reply shows l2.url points at one node of a Redis Cluster (MOVED/ASK). */
  misconfiguration?: CacheConfigError;
  private flushing = false;
  private retryTimer?: NodeJS.Timeout;
  private lastSlotsRefresh = -Infinity;

  constructor(
    private readonly options: RedisTierOptions,
    private readonly counters: TierCounters,
    private readonly onBreaker: (state: BreakerState) => void,
    private readonly logger: Logger = NOOP_LOGGER,
  ) {
    this.base = `${options.keyPrefix}${options.namespace}:v${options.version}:`;
    this.channel = `${this.base}bus`;
    this.breakers = new BreakerSet(options.breaker, (s) => this.breakerChanged(s));
    if (options.retryWrites > 0) this.retry = new WriteRetryQueue(options.retryWrites);
    if (options.client) {
      this.client = options.client;
      this.owned = false;
      this.where = 'the given client';
    } else {
      this.client = createRedisClient(options.target!, options.reconnectMaxDelayMs, options.socketTimeoutMs);
      this.owned = true;
      this.where = redactUrl(options.target!.url);
    }
    if (!(this.client instanceof Cluster)) this.single = this.breakers.for('*');
    this.spans = new L2Spans(this.client, options.namespace);
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
    this.breakers.successAll();
    void this.flushRetries();
  };

  /** The worst breaker state across nodes. */
  get breakerState(): BreakerState {
    return this.breakers.state;
  }

  /** Nodes (cluster masters) whose breaker is open. */
  get openNodes(): number {
    return this.breakers.openNodes;
  }

  /** The breaker guarding the node that serves `redisKey` (its slot's master on a Cluster). */
  private breakerFor(redisKey: string | undefined): CircuitBreaker {
    if (this.single) return this.single;
    const owner = redisKey === undefined ? undefined : (this.client as Cluster).slots[keySlot(redisKey)]?.[0];
    return this.breakers.for(owner ?? '*');
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
    const k = this.dataKey(key);
    return this.guarded<Buffer | null>(OPS.get, k, (ok, fail) => this.enqueueGet(k, ok, fail));
  }

  /**
   * GETs issued in the same tick go out as one pipeline (one socket write); a lone GET goes
   * straight out. Unlike ioredis auto-pipelining (setImmediate), this waits only for a microtask,
   * so a sequential caller pays nothing. Cluster: per-key commands (slots may differ).
   */
  private enqueueGet(redisKey: string, resolve: (v: Buffer | null) => void, reject: (e: unknown) => void): void {
    if (this.pendingGets === null) {
      this.pendingGets = [];
      queueMicrotask(() => {
        // The microtask runs in the first caller's context: suppress for all when any span records.
        if (!this.suppressFlush) return this.flushGets();
        this.suppressFlush = false;
        context.with(suppressTracing(context.active()), () => this.flushGets());
      });
    }
    if (!this.suppressFlush && isTracingSuppressed(context.active())) this.suppressFlush = true;
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

  /** Failed writes are counted (and kept for a retry with l2.retryWrites); the error is rethrown. */
  async set(key: string, bytes: Buffer, pxMs: number, tags: readonly string[]): Promise<void> {
    // This write supersedes any pending one for the key: a retry must never overwrite it.
    this.retry?.forget([key]);
    try {
      await this.write(key, bytes, pxMs, tags);
    } catch (err) {
      this.counters.writeFailed();
      this.retry?.remember(key, { bytes, staleUntil: Date.now() + pxMs, tags });
      this.scheduleRetry();
      throw err;
    }
    if (this.retry && this.retry.size > 0) void this.flushRetries();
  }

  /** Pending writes waiting for L2 to return (l2.retryWrites). */
  get pendingWrites(): number {
    return this.retry?.size ?? 0;
  }

  /**
   * Writes what failed during the outage, oldest first; stops at the first failure and tries
   * again after breaker.resetMs (besides on reconnect and when the breaker closes).
   */
  private async flushRetries(): Promise<void> {
    if (!this.retry || this.flushing || this.closed) return;
    this.flushing = true;
    try {
      for (let next = this.retry.take(Date.now()); next; next = this.retry.take(Date.now())) {
        const [key, w] = next;
        try {
          await this.write(key, w.bytes, w.staleUntil - Date.now(), w.tags);
          this.retry.done(key);
          this.counters.writeRetried();
        } catch {
          this.retry.restore(key, w);
          this.scheduleRetry();
          return;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private scheduleRetry(): void {
    if (!this.retry || this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flushRetries();
    }, this.options.breaker.resetMs);
    this.retryTimer.unref();
  }

  private async write(key: string, bytes: Buffer, pxMs: number, tags: readonly string[]): Promise<void> {
    const px = Math.max(1, Math.ceil(pxMs));
    await this.call(tags.length ? OPS.setTagged : OPS.set, this.dataKey(key), (c) => {
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
    this.retry?.forget(keys);
    // One UNLINK per key so a Cluster routes each to its own slot.
    await this.call(keys.length > 1 ? OPS.deleteMany : OPS.delete, this.dataKey(keys[0]), (c) =>
      Promise.all(keys.map((k) => c.unlink(this.dataKey(k)))),
    );
  }

  /** Deletes every key carrying one of the tags; returns those keys. */
  async deleteByTags(tags: readonly string[]): Promise<string[]> {
    this.retry?.forgetTags(tags);
    return this.call(OPS.deleteByTag, tags.length ? this.tagKey(tags[0]) : undefined, async (c) => {
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
    this.retry?.clear();
    await this.call(
      OPS.clear,
      undefined,
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
    return (
      (await this.call(OPS.lock, this.lockKey(key), (c) => c.set(this.lockKey(key), token, 'PX', ttlMs, 'NX'))) === 'OK'
    );
  }
  async lockRenew(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (
      (await this.call(OPS.lockRenew, this.lockKey(key), (c) =>
        c.eval(RENEW_SCRIPT, 1, this.lockKey(key), token, ttlMs),
      )) === 1
    );
  }
  async lockRelease(key: string, token: string): Promise<boolean> {
    return (
      (await this.call(OPS.lockRelease, this.lockKey(key), (c) =>
        c.eval(RELEASE_SCRIPT, 1, this.lockKey(key), token),
      )) === 1
    );
  }

  /** PUBLISH, or SPUBLISH on a Cluster (the channel's shard keeps one sender's messages in order). */
  async publish(message: string): Promise<void> {
    if (this.client instanceof Cluster) {
      const c = this.client;
      await this.call(OPS.spublish, this.channel, () => c.spublish(this.channel, message));
    } else await this.call(OPS.publish, undefined, (c) => c.publish(this.channel, message));
  }

  /** Round trip with the per-call timeout, bypassing the breaker (for health checks). */
  async ping(): Promise<number> {
    const start = performance.now();
    await this.call(OPS.ping, undefined, (c) => c.ping(), this.options.timeoutMs, true);
    return performance.now() - start;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (!this.owned) {
      // The caller's client outlives us: leave it as we found it.
      this.client.off('error', this.onError);
      this.client.off('close', this.onClose);
      this.client.off('ready', this.onReady);
      return;
    }
    await closeClient(this.client);
  }

  /** Runs one L2 operation under the breaker, the per-call timeout and a span. */
  private call<T>(
    op: L2Op,
    route: string | undefined,
    fn: (c: RedisClient) => Promise<T>,
    timeoutMs = this.options.timeoutMs,
    bypassBreaker = false,
  ): Promise<T> {
    return this.guarded(op, route, (ok, fail) => fn(this.client).then(ok, fail), timeoutMs, bypassBreaker);
  }

  /** call() for operations that report through callbacks (saves a promise on the GET path). */
  private guarded<T>(
    op: L2Op,
    route: string | undefined,
    begin: (ok: (v: T) => void, fail: (e: unknown) => void) => void,
    timeoutMs = this.options.timeoutMs,
    bypassBreaker = false,
  ): Promise<T> {
    const breaker = this.breakerFor(route);
    if (!bypassBreaker && !breaker.allow()) return Promise.reject(this.openError);
    const status = this.client.status;
    if (status === 'reconnecting' || status === 'end' || status === 'close' || (this.everReady && status !== 'ready')) {
      // Known to be down: fail now instead of queueing behind a reconnect.
      this.failure('disconnected', breaker);
      return Promise.reject(this.downError);
    }
    const span: Span = tracer.startSpan(op.command, this.spans.optionsFor(op));
    // The command runs in our span's context with tracing suppressed, so an active
    // @opentelemetry/instrumentation-ioredis adds no second span. Only for a recording span:
    // with the no-op tracer this path allocates nothing more.
    let driverContext: Context | undefined;
    if (span.isRecording()) {
      if (route !== undefined && !this.single) this.spans.node(span, keySlot(route));
      driverContext = suppressTracing(trace.setSpan(context.active(), span));
    }
    const start = performance.now();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        this.failure('timeout', breaker);
        this.replaceIfSilent();
        const err = new L2UnavailableError('timeout', timeoutMs);
        failSpan(span, err, true);
        reject(err);
      }, timeoutMs);
      const ok = (value: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        breaker.success();
        this.lastReplyAt = performance.now();
        this.counters.latency(op.label, this.lastReplyAt - start);
        span.end();
        resolve(value);
      };
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.failure('error', breaker);
        if (isRedirect(err)) this.misdirected();
        failSpan(span, err, false);
        reject(err);
      };
      if (driverContext) context.with(driverContext, begin, undefined, ok, fail);
      else begin(ok, fail);
    });
  }

  /**
   * A connection that looks ready but has answered nothing for socketTimeoutMs is black-holed
   * (ioredis' own socketTimeout does not always catch it): drop it so ioredis reconnects. Only
   * our own connection, once per outage; a merely slow Redis keeps answering and is left alone.
   */
  private replaceIfSilent(): void {
    // A Cluster's per-node connections time out on their own (socketTimeout); never drop them all.
    if (!this.owned || this.replacing || this.client instanceof Cluster || this.client.status !== 'ready') return;
    if (performance.now() - this.lastReplyAt < this.options.socketTimeoutMs) return;
    this.replacing = true;
    this.counters.error('black_holed');
    this.client.disconnect(true);
  }

  /** A single-node client got MOVED/ASK: l2.url names one node of a Cluster. Said once, loudly. */
  private misdirected(): void {
    if (this.client instanceof Cluster || this.misconfiguration) return;
    this.counters.error('moved');
    this.misconfiguration = new CacheConfigError(
      'l2.url',
      'redis+cluster://h1:p1,h2:p2 (or an ioredis Cluster as l2.client) for a Redis Cluster',
      `${this.where}, one node of a cluster (it answered MOVED/ASK)`,
    );
    this.logger.error(`cache ${this.options.namespace}: ${this.misconfiguration.message}`, {
      code: this.misconfiguration.code,
    });
  }

  private failure(kind: 'timeout' | 'disconnected' | 'error', breaker: CircuitBreaker): void {
    this.counters.error(kind);
    breaker.failure();
    if (this.client instanceof Cluster) this.refreshSlots(this.client);
  }

  /**
   * A Cluster node that stopped answering may have been failed over: ask the cluster who owns
   * the slots now (at most every 500 ms), so its keys move to the promoted replica — and to a
   * fresh, closed breaker — instead of waiting on the dead node forever.
   */
  private refreshSlots(cluster: Cluster): void {
    const now = performance.now();
    if (now - this.lastSlotsRefresh < 500) return;
    this.lastSlotsRefresh = now;
    cluster.refreshSlotsCache(() => undefined);
  }

  private breakerChanged(state: BreakerState): void {
    this.onBreaker(state);
    if (state === 'open' && !this.warnedDown) {
      this.warnedDown = true;
      this.logger.warn(
        `cache ${this.options.namespace}: L2 Redis at ${this.where} is unreachable; serving from L1/L3 until it returns`,
      );
    } else if (state === 'closed') void this.flushRetries();
    if (state === 'closed' && this.warnedDown) {
      this.warnedDown = false;
      this.logger.info(`cache ${this.options.namespace}: L2 Redis at ${this.where} is back`);
    }
  }
}

function isRedirect(err: unknown): boolean {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /^(MOVED|ASK) \d+ /.test(message);
}
