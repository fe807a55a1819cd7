// Shipping logs to Elasticsearch (_bulk, ECS documents) or Loki (/loki/api/v1/push). The HTTP
// transport never blocks or crashes the application: log() only appends to a bounded buffer;
// batches go out in the background, one request at a time, retried with backoff; whatever must
// be given up (buffer full, retries exhausted, rejected, shutdown) is counted, never thrown.
import http from 'node:http';
import https from 'node:https';
import TransportStream from 'winston-transport';
import { LoggingConfigError, ShippingError } from './errors';
import { toEcs, renderOtelJson } from './layouts';
import { recordOf, type LogRecord, type WinstonInfo } from './record';
import { redactString } from '@periscope/core';
import type { CounterLike, MetricsLike } from './metrics';

/** Elasticsearch _bulk body (NDJSON): one `create` action and one ECS document per record. */
export function toElasticsearchBulk(records: readonly LogRecord[], index: string): string {
  if (typeof index !== 'string' || index === '')
    throw new LoggingConfigError('index', 'expected a non-empty Elasticsearch index or data stream name');
  const action = JSON.stringify({ create: { _index: index } });
  let body = '';
  for (const r of records) body += `${action}\n${JSON.stringify(toEcs(r))}\n`;
  return body;
}

export interface LokiPushBody {
  streams: { stream: Record<string, string>; values: [string, string][] }[];
}

/** Loki push body: one stream per (service, level) plus static labels; lines are OTel JSON. */
export function toLokiPush(records: readonly LogRecord[], labels: Record<string, string> = {}): LokiPushBody {
  const streams = new Map<string, LokiPushBody['streams'][number]>();
  for (const r of records) {
    const key = `${r.service}\u0000${r.level}`;
    let s = streams.get(key);
    if (!s) {
      s = { stream: { ...labels, service_name: r.service, level: r.level }, values: [] };
      streams.set(key, s);
    }
    // Loki wants nanoseconds as a decimal string.
    s.values.push([`${r.time}000000`, renderOtelJson(r)]);
  }
  return { streams: [...streams.values()] };
}

export type ShippingTarget = 'elasticsearch' | 'loki';
export type ShipDropReason = 'buffer_full' | 'retries_exhausted' | 'rejected' | 'shutdown';

export interface HttpTransportOptions {
  /** Env PERISCOPE_LOG_SHIP_TARGET. Required (option or env). */
  target?: ShippingTarget;
  /** Base URL of the receiver (the API path is appended). Credentials in it become a Basic header. Env PERISCOPE_LOG_SHIP_URL. */
  url?: string;
  /** Elasticsearch index / data stream. Env PERISCOPE_LOG_SHIP_INDEX; default `logs-periscope-default`. */
  index?: string;
  /** Static Loki stream labels. */
  labels?: Record<string, string>;
  /** Extra request headers (e.g. Authorization); never logged. */
  headers?: Record<string, string>;
  /** Records per request. Default 500. */
  batchSize?: number;
  /** A partial batch is sent after this long. Default 1000. */
  flushIntervalMs?: number;
  /** Records held while the receiver is slow or down; beyond it the oldest are dropped. Default 10000. */
  maxBufferSize?: number;
  /** Retries of one batch before it is dropped. Default 5. */
  maxRetries?: number;
  /** First retry delay; doubles per retry with jitter, up to retryMaxMs. Defaults 200 / 10000. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Per-request timeout. Default 5000. */
  timeoutMs?: number;
  /** How long close() keeps trying to send what is buffered. Default 5000. */
  closeTimeoutMs?: number;
  metrics?: MetricsLike;
  /** winston transport level. */
  level?: string;
}

export interface ShippingStats {
  target: ShippingTarget;
  buffered: number;
  inFlight: number;
  sent: number;
  requests: number;
  retries: number;
  dropped: { total: number; byReason: Partial<Record<ShipDropReason, number>> };
  /** Redacted description of the last failure, if any. */
  lastError?: string;
}

function int(option: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min)
    throw new LoggingConfigError(option, `expected an integer >= ${min}, got ${String(value)}`);
  return value;
}

export class HttpLogTransport extends TransportStream {
  readonly target: ShippingTarget;
  private readonly endpoint: URL;
  private readonly safeEndpoint: string;
  private readonly index: string;
  private readonly labels: Record<string, string>;
  private readonly headers: Record<string, string>;
  private readonly batchSize: number;
  private readonly maxBufferSize: number;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private retryMaxMs: number;
  private readonly timeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly agent: http.Agent;
  private readonly timer: NodeJS.Timeout;

  private buffer: LogRecord[] = [];
  private batch: LogRecord[] | null = null;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private sending = false;
  private request: http.ClientRequest | null = null;
  private stopping = false;
  private closing: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly counts = { sent: 0, requests: 0, retries: 0, dropped: 0 };
  private readonly droppedBy: Partial<Record<ShipDropReason, number>> = {};
  private lastError: string | undefined;
  private readonly mShipped?: CounterLike;
  private readonly mDropped?: CounterLike;
  private readonly mRetries?: CounterLike;

  constructor(options: HttpTransportOptions = {}) {
    super({ level: options.level });
    const target = options.target ?? process.env.PERISCOPE_LOG_SHIP_TARGET;
    if (target !== 'elasticsearch' && target !== 'loki')
      throw new LoggingConfigError(
        options.target !== undefined ? 'target' : 'PERISCOPE_LOG_SHIP_TARGET',
        `expected elasticsearch or loki, got "${String(target)}"`,
      );
    this.target = target;
    const rawUrl = options.url ?? process.env.PERISCOPE_LOG_SHIP_URL;
    let url: URL;
    try {
      url = new URL(String(rawUrl));
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw new LoggingConfigError(
        options.url !== undefined ? 'url' : 'PERISCOPE_LOG_SHIP_URL',
        `expected an http(s) URL, got "${rawUrl === undefined ? 'nothing' : redactString(String(rawUrl))}"`,
      );
    }
    this.headers = { ...options.headers };
    // Credentials move from the URL into a header so the URL can appear in errors.
    if (url.username || url.password) {
      this.headers.authorization ??= `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    const apiPath = target === 'elasticsearch' ? '/_bulk' : '/loki/api/v1/push';
    if (!url.pathname.endsWith(apiPath)) url.pathname = url.pathname.replace(/\/$/, '') + apiPath;
    this.endpoint = url;
    this.safeEndpoint = redactString(url.toString()); // a token in the query string stays out of errors
    this.index = options.index ?? process.env.PERISCOPE_LOG_SHIP_INDEX ?? 'logs-periscope-default';
    if (typeof this.index !== 'string' || this.index === '')
      throw new LoggingConfigError('index', 'expected a non-empty index name');
    this.labels = { ...options.labels };
    this.batchSize = int('batchSize', options.batchSize, 500);
    this.maxBufferSize = int('maxBufferSize', options.maxBufferSize, 10_000);
    this.maxRetries = int('maxRetries', options.maxRetries, 5, 0);
    this.retryBaseMs = int('retryBaseMs', options.retryBaseMs, 200);
    this.retryMaxMs = int('retryMaxMs', options.retryMaxMs, 10_000);
    this.timeoutMs = int('timeoutMs', options.timeoutMs, 5000);
    this.closeTimeoutMs = int('closeTimeoutMs', options.closeTimeoutMs, 5000, 0);
    const flushIntervalMs = int('flushIntervalMs', options.flushIntervalMs, 1000);
    const m = options.metrics;
    this.mShipped = m?.counter({
      name: 'periscope_logging_shipped_total',
      help: 'Log records accepted by the receiver.',
      labelNames: ['target'],
    });
    this.mDropped = m?.counter({
      name: 'periscope_logging_ship_dropped_total',
      help: 'Log records given up by the shipper, by reason.',
      labelNames: ['target', 'reason'],
    });
    this.mRetries = m?.counter({
      name: 'periscope_logging_ship_retries_total',
      help: 'Shipping requests retried.',
      labelNames: ['target'],
    });
    this.agent = new (url.protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
    this.timer = setInterval(() => this.pump(), flushIntervalMs);
    this.timer.unref();
  }

  override log(info: WinstonInfo, next: () => void): void {
    this.enqueue(recordOf(info));
    next();
  }

  /** Queues one record (already redacted). Never blocks, never throws. */
  enqueue(record: LogRecord): void {
    if (this.stopping) {
      this.drop(1, 'shutdown');
      return;
    }
    this.buffer.push(record);
    if (this.buffer.length > this.maxBufferSize) {
      const over = this.buffer.length - this.maxBufferSize;
      this.buffer.splice(0, over);
      this.drop(over, 'buffer_full');
    }
    if (this.buffer.length >= this.batchSize) this.pump();
  }

  stats(): ShippingStats {
    return {
      target: this.target,
      buffered: this.buffer.length,
      inFlight: this.batch?.length ?? 0,
      sent: this.counts.sent,
      requests: this.counts.requests,
      retries: this.counts.retries,
      dropped: { total: this.counts.dropped, byReason: { ...this.droppedBy } },
      lastError: this.lastError,
    };
  }

  /** Sends everything buffered now (waiting out retries), resolving when the buffer is empty or given up. */
  flush(): Promise<void> {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.pump();
    if (!this.sending && !this.batch && this.buffer.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private drop(n: number, reason: ShipDropReason): void {
    if (n <= 0) return;
    this.counts.dropped += n;
    this.droppedBy[reason] = (this.droppedBy[reason] ?? 0) + n;
    this.mDropped?.inc({ target: this.target, reason }, n);
  }

  private pump(): void {
    if (this.sending || this.retryTimer) return;
    if (!this.batch) {
      if (this.buffer.length === 0) {
        this.settleIdle();
        return;
      }
      this.batch = this.buffer.splice(0, this.batchSize);
      this.attempt = 0;
    }
    this.sending = true;
    const batch = this.batch;
    this.send(batch).then(
      ({ retry, rejected }) => {
        this.sending = false;
        if (this.batch !== batch) return; // abandoned by shutdown(), already counted
        this.lastError = undefined;
        const accepted = batch.length - retry.length - rejected;
        this.counts.sent += accepted;
        if (accepted) this.mShipped?.inc({ target: this.target }, accepted);
        this.drop(rejected, 'rejected');
        // Items the receiver asked us to retry (Elasticsearch 429 per item) go back to the front.
        this.batch = null;
        if (retry.length) this.buffer.unshift(...retry);
        this.afterSend(retry.length > 0);
      },
      (err: ShippingError) => {
        this.sending = false;
        if (this.batch !== batch) return;
        this.lastError = err.message;
        if (!err.retryable) {
          this.drop(batch.length, 'rejected');
          this.batch = null;
          this.afterSend(false);
        } else if (this.attempt >= this.maxRetries || this.stopping) {
          this.drop(batch.length, this.stopping && this.attempt < this.maxRetries ? 'shutdown' : 'retries_exhausted');
          this.batch = null;
          this.afterSend(true);
        } else {
          this.attempt++;
          this.counts.retries++;
          this.mRetries?.inc({ target: this.target });
          this.scheduleRetry();
        }
      },
    );
  }

  private afterSend(backoff: boolean): void {
    if (backoff && !this.stopping && this.buffer.length) {
      this.scheduleRetry();
      return;
    }
    if (this.buffer.length >= this.batchSize || (this.stopping && this.buffer.length)) this.pump();
    else if (!this.batch && this.buffer.length === 0) this.settleIdle();
    else if (this.idleWaiters.length) this.pump();
  }

  private scheduleRetry(): void {
    const exp = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.max(0, this.attempt - 1));
    const delay = Math.round(exp / 2 + Math.random() * (exp / 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, delay);
    this.retryTimer.unref();
  }

  private settleIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves with the records to retry individually and the count rejected; rejects with a ShippingError. */
  private send(batch: LogRecord[]): Promise<{ retry: LogRecord[]; rejected: number }> {
    const body =
      this.target === 'elasticsearch'
        ? toElasticsearchBulk(batch, this.index)
        : JSON.stringify(toLokiPush(batch, this.labels));
    const contentType = this.target === 'elasticsearch' ? 'application/x-ndjson' : 'application/json';
    this.counts.requests++;
    return new Promise((resolve, reject) => {
      const lib = this.endpoint.protocol === 'https:' ? https : http;
      const req = lib.request(
        this.endpoint,
        {
          method: 'POST',
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: { ...this.headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            if (chunks.length < 1024) chunks.push(c);
          });
          res.on('error', (err) =>
            reject(
              new ShippingError(
                `response from ${this.safeEndpoint} failed: ${redactString(err.message)}`,
                true,
                undefined,
                { cause: err },
              ),
            ),
          );
          res.on('end', () => {
            this.request = null;
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              resolve(
                this.target === 'elasticsearch'
                  ? bulkOutcome(batch, Buffer.concat(chunks).toString('utf8'))
                  : { retry: [], rejected: 0 },
              );
              return;
            }
            const retryable = status >= 500 || status === 429 || status === 408;
            reject(
              new ShippingError(`${this.target} at ${this.safeEndpoint} answered HTTP ${status}`, retryable, status),
            );
          });
        },
      );
      this.request = req;
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => {
        this.request = null;
        reject(
          new ShippingError(`cannot ship logs to ${this.safeEndpoint}: ${redactString(err.message)}`, true, undefined, {
            cause: err,
          }),
        );
      });
      req.end(body);
    });
  }

  // winston calls this when the logger ends: send what is left before 'finish'.
  override _final(callback: (error?: Error | null) => void): void {
    this.shutdown().then(
      () => callback(),
      () => callback(),
    );
  }

  override close(): void {
    void this.shutdown();
  }

  /** Stops the timer, sends what is buffered (up to closeTimeoutMs), drops and counts the rest. Idempotent. */
  shutdown(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      const deadline = new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.closeTimeoutMs);
        t.unref();
      });
      // While closing, retries wait only briefly so shutdown stays within closeTimeoutMs.
      this.retryMaxMs = Math.min(this.retryMaxMs, Math.max(50, Math.floor(this.closeTimeoutMs / 4)));
      await Promise.race([this.flush(), deadline]);
      this.stopping = true;
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
      }
      this.request?.destroy();
      const left = this.buffer.length + (this.batch?.length ?? 0);
      this.buffer = [];
      this.batch = null;
      this.drop(left, 'shutdown');
      this.settleIdle();
      this.agent.destroy();
    })();
    return this.closing;
  }
}

// Elasticsearch answers 200 even when some items failed: 429 items are retried, others are rejected.
function bulkOutcome(batch: LogRecord[], text: string): { retry: LogRecord[]; rejected: number } {
  let parsed: { errors?: boolean; items?: Record<string, { status?: number }>[] };
  try {
    parsed = JSON.parse(text);
  } catch {
    return { retry: [], rejected: 0 };
  }
  const retry: LogRecord[] = [];
  let rejected = 0;
  if (!parsed.errors || !Array.isArray(parsed.items)) return { retry, rejected };
  parsed.items.forEach((item, i) => {
    const status = Object.values(item)[0]?.status ?? 200;
    if (status === 429 && batch[i]) retry.push(batch[i]);
    else if (status >= 300) rejected++;
  });
  return { retry, rejected };
}

export function createHttpTransport(options: HttpTransportOptions = {}): HttpLogTransport {
  return new HttpLogTransport(options);
}
