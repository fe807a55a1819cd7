// Shipping logs to Elasticsearch (_bulk, ECS documents), Loki (/loki/api/v1/push) or an OTLP/HTTP
// receiver (otlp.ts builds the settings of that one; the machinery below is shared). The HTTP
// transport never blocks or crashes the application: log() only appends to a bounded buffer;
// batches go out in the background, one request at a time, retried with backoff; whatever must
// be given up (buffer full, retries exhausted, rejected, shutdown) is counted, never thrown.
// shutdown() settles within closeTimeoutMs whatever the receiver does, and says on stderr how
// many records it could not deliver.
import http from 'node:http';
import https from 'node:https';
import TransportStream from 'winston-transport';
import { createConfigReader, redactUrl, type ConfigReader, type Env, type MetricsSink } from '@periscope/core';
import { ShippingError, configError } from './errors';
import { recordOf, type LogRecord, type WinstonInfo } from './record';
import { shippingInstruments, type ShippingInstruments } from './instrumentation';
import { bulkOutcome, toElasticsearchBulk, toLokiPush, type BulkOutcome } from './shipping-format';
import { post } from './http-request';

export { toElasticsearchBulk, toLokiPush } from './shipping-format';
export type { LokiPushBody } from './shipping-format';

export type ShippingTarget = 'elasticsearch' | 'loki' | 'otlp';
export type ShipDropReason = 'buffer_full' | 'retries_exhausted' | 'rejected' | 'shutdown';

export interface HttpTransportOptions {
  /** Env PERISCOPE_LOG_SHIP_TARGET. Required (option or env). For OTLP use createOtlpTransport(). */
  target?: Exclude<ShippingTarget, 'otlp'>;
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
  /** Per-request timeout (no answer, or no complete answer). Default 5000. */
  timeoutMs?: number;
  /** shutdown() settles within this bound, dropping and counting what is not delivered. Env PERISCOPE_LOG_SHIP_CLOSE_TIMEOUT; default 5000. */
  closeTimeoutMs?: number;
  metrics?: MetricsSink;
  /** winston transport level. */
  level?: string;
  /** Read instead of process.env. */
  env?: Env;
}

const KNOWN: readonly (keyof HttpTransportOptions)[] = [
  'target',
  'url',
  'index',
  'labels',
  'headers',
  'batchSize',
  'flushIntervalMs',
  'maxBufferSize',
  'maxRetries',
  'retryBaseMs',
  'retryMaxMs',
  'timeoutMs',
  'closeTimeoutMs',
  'metrics',
  'level',
  'env',
];

/** The most of a reply body kept (Elasticsearch's per-item report); the rest is read and discarded. */
const MAX_REPLY_BYTES = 4 << 20;

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

/** How one target writes a batch and reads the answer. */
export interface WireFormat {
  contentType: string;
  /** Keep the body of a 2xx reply for `outcome`. */
  wantBody: boolean;
  encode(batch: readonly LogRecord[]): string | Buffer | Promise<string | Buffer>;
  outcome(batch: readonly LogRecord[], text: string | undefined): BulkOutcome;
}

export interface ShipSettings {
  target: ShippingTarget;
  endpoint: URL;
  safeEndpoint: string;
  format: WireFormat;
  headers: Record<string, string>;
  batchSize: number;
  flushIntervalMs: number;
  maxBufferSize: number;
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  closeTimeoutMs: number;
}

const ACCEPT_ALL = (): BulkOutcome => ({ retry: [], rejected: 0 });

function wireFormat(target: 'elasticsearch' | 'loki', index: string, labels: Record<string, string>): WireFormat {
  return target === 'elasticsearch'
    ? {
        contentType: 'application/x-ndjson',
        wantBody: true,
        encode: (batch) => toElasticsearchBulk(batch, index),
        outcome: (batch, text) => bulkOutcome(batch, text),
      }
    : {
        contentType: 'application/json',
        wantBody: false,
        encode: (batch) => JSON.stringify(toLokiPush(batch, labels)),
        outcome: ACCEPT_ALL,
      };
}

function resolveSettings(options: HttpTransportOptions): ShipSettings {
  const r: ConfigReader = createConfigReader({ env: options.env, error: configError });
  r.rejectUnknown(options, KNOWN, 'createHttpTransport options');
  const target = r.oneOf('target', options.target, ['elasticsearch', 'loki'] as const, {
    env: 'PERISCOPE_LOG_SHIP_TARGET',
    default: undefined,
  });
  if (target === undefined) r.fail('target', 'elasticsearch or loki (option or PERISCOPE_LOG_SHIP_TARGET)', target);
  const rawUrl = r.url('url', options.url, {
    env: 'PERISCOPE_LOG_SHIP_URL',
    default: undefined,
    protocols: ['http:', 'https:'],
  });
  if (rawUrl === undefined) r.fail('url', 'an http(s) URL (option or PERISCOPE_LOG_SHIP_URL)', rawUrl);
  const url = new URL(rawUrl);
  const headers = { ...options.headers };
  // Credentials move from the URL into a header so the URL can appear in errors.
  if (url.username || url.password) {
    const basic = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`);
    headers.authorization ??= `Basic ${basic.toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const apiPath = target === 'elasticsearch' ? '/_bulk' : '/loki/api/v1/push';
  if (!url.pathname.endsWith(apiPath)) url.pathname = url.pathname.replace(/\/$/, '') + apiPath;
  const int = (option: keyof HttpTransportOptions, fallback: number, min = 1): number =>
    r.integer(option, options[option] as number | undefined, { default: fallback, min });
  const index = r.string('index', options.index, {
    env: 'PERISCOPE_LOG_SHIP_INDEX',
    default: 'logs-periscope-default',
  });
  return {
    target,
    endpoint: url,
    safeEndpoint: redactUrl(url.toString(), { form: 'masked' }), // a token in the query string stays out of errors
    format: wireFormat(target, index, { ...options.labels }),
    headers,
    batchSize: int('batchSize', 500),
    flushIntervalMs: int('flushIntervalMs', 1000),
    maxBufferSize: int('maxBufferSize', 10_000),
    maxRetries: int('maxRetries', 5, 0),
    retryBaseMs: int('retryBaseMs', 200),
    retryMaxMs: int('retryMaxMs', 10_000),
    timeoutMs: int('timeoutMs', 5000),
    closeTimeoutMs: r.duration('closeTimeoutMs', options.closeTimeoutMs, {
      env: 'PERISCOPE_LOG_SHIP_CLOSE_TIMEOUT',
      default: 5000,
      min: 0,
      max: 600_000,
    }),
  };
}

export class HttpLogTransport extends TransportStream {
  readonly target: ShippingTarget;
  private readonly s: ShipSettings;
  private readonly agent: http.Agent;
  private readonly timer: NodeJS.Timeout;
  private readonly m: ShippingInstruments;
  private retryMaxMs: number;

  private buffer: LogRecord[] = [];
  private batch: LogRecord[] | null = null;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private sending = false;
  private request: http.ClientRequest | null = null;
  private stopping = false;
  private closing: Promise<void> | undefined;
  private stopNow: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly counts = { sent: 0, requests: 0, retries: 0, dropped: 0 };
  private readonly droppedBy: Partial<Record<ShipDropReason, number>> = {};
  private lastError: string | undefined;

  constructor(options?: HttpTransportOptions);
  /**
   * `settings` (already resolved) is how other targets (createOtlpTransport) reuse this machinery.
   * @internal
   */
  constructor(options: HttpTransportOptions, settings: ShipSettings);
  constructor(options: HttpTransportOptions = {}, settings?: ShipSettings) {
    super({ level: options.level });
    this.s = settings ?? resolveSettings(options);
    this.target = this.s.target;
    this.retryMaxMs = this.s.retryMaxMs;
    this.m = shippingInstruments(options.metrics, this.target);
    this.agent = new (this.s.endpoint.protocol === 'https:' ? https.Agent : http.Agent)({
      keepAlive: true,
      maxSockets: 1,
    });
    this.timer = setInterval(() => this.pump(), this.s.flushIntervalMs);
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
    if (this.buffer.length > this.s.maxBufferSize) {
      const over = this.buffer.length - this.s.maxBufferSize;
      this.buffer.splice(0, over);
      this.drop(over, 'buffer_full');
    }
    if (this.buffer.length >= this.s.batchSize) this.pump();
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
    this.m.dropped(reason, n);
  }

  private pump(): void {
    if (this.sending || this.retryTimer) return;
    if (!this.batch) {
      if (this.buffer.length === 0) {
        this.settleIdle();
        return;
      }
      this.batch = this.buffer.splice(0, this.s.batchSize);
      this.attempt = 0;
    }
    this.sending = true;
    const batch = this.batch;
    // Nothing that happens while sending may escape as an unhandled rejection.
    this.send(batch)
      .then(
        (outcome) => this.delivered(batch, outcome),
        (err: unknown) => this.failed(batch, err),
      )
      .catch((err: unknown) => this.failed(batch, err));
  }

  private delivered(batch: LogRecord[], { retry, rejected }: BulkOutcome): void {
    this.sending = false;
    if (this.batch !== batch) return; // abandoned by shutdown(), already counted
    this.lastError = undefined;
    const accepted = batch.length - retry.length - rejected;
    this.counts.sent += accepted;
    if (accepted) this.m.shipped(accepted);
    this.drop(rejected, 'rejected');
    // Items the receiver asked us to retry (Elasticsearch 429 per item) go back to the front.
    this.batch = null;
    if (retry.length) this.buffer.unshift(...retry);
    this.afterSend(retry.length > 0);
  }

  private failed(batch: LogRecord[], err: unknown): void {
    this.sending = false;
    if (this.batch !== batch) return;
    this.lastError = err instanceof Error ? err.message : String(err);
    const retryable = err instanceof ShippingError && err.retryable;
    if (!retryable) {
      this.drop(batch.length, 'rejected');
      this.batch = null;
      this.afterSend(false);
    } else if (this.attempt >= this.s.maxRetries || this.stopping) {
      this.drop(batch.length, this.stopping && this.attempt < this.s.maxRetries ? 'shutdown' : 'retries_exhausted');
      this.batch = null;
      this.afterSend(true);
    } else {
      this.attempt++;
      this.counts.retries++;
      this.m.retry();
      this.scheduleRetry();
    }
  }

  private afterSend(backoff: boolean): void {
    if (backoff && !this.stopping && this.buffer.length) {
      this.scheduleRetry();
      return;
    }
    if (this.buffer.length >= this.s.batchSize || (this.stopping && this.buffer.length)) this.pump();
    else if (!this.batch && this.buffer.length === 0) this.settleIdle();
    else if (this.idleWaiters.length) this.pump();
  }

  private scheduleRetry(): void {
    const exp = Math.min(this.retryMaxMs, this.s.retryBaseMs * 2 ** Math.max(0, this.attempt - 1));
    const delay = Math.round(exp / 2 + Math.random() * (exp / 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, delay);
    // Retries alone never keep a process alive; shutdown() holds it with its own (bounded) timer.
    this.retryTimer.unref();
  }

  private settleIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves with the records to retry individually and the count rejected; rejects with a ShippingError. */
  private async send(batch: LogRecord[]): Promise<BulkOutcome> {
    const { format } = this.s;
    const body = await format.encode(batch);
    this.counts.requests++;
    const reply = await post({
      endpoint: this.s.endpoint,
      safeEndpoint: this.s.safeEndpoint,
      agent: this.agent,
      headers: this.s.headers,
      contentType: format.contentType,
      body,
      timeoutMs: this.s.timeoutMs,
      wantBody: format.wantBody,
      maxReplyBytes: MAX_REPLY_BYTES,
      onRequest: (req) => (this.request = req),
    });
    if (reply.status >= 200 && reply.status < 300) return format.outcome(batch, reply.text);
    const retryable = reply.status >= 500 || reply.status === 429 || reply.status === 408;
    throw new ShippingError(
      `${this.target} at ${this.s.safeEndpoint} answered HTTP ${reply.status}`,
      retryable,
      reply.status,
    );
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

  /** Stops waiting for the receiver now: what is not delivered yet is dropped and counted. */
  abort(): void {
    this.stopNow?.();
    void this.shutdown(0);
  }

  /**
   * Stops the timer, sends what is buffered for at most `timeoutMs` (default closeTimeoutMs),
   * then drops and counts the rest (and says so on stderr). Always settles within the bound. Idempotent.
   */
  shutdown(timeoutMs: number = this.s.closeTimeoutMs): Promise<void> {
    this.closing ??= this.stop(timeoutMs);
    return this.closing;
  }

  private async stop(timeoutMs: number): Promise<void> {
    clearInterval(this.timer);
    const started = Date.now();
    let deadlineTimer: NodeJS.Timeout | undefined;
    // A referenced timer: the process stays alive until shutdown has settled (never an unsettled await).
    const deadline = new Promise<void>((resolve) => {
      this.stopNow = resolve;
      deadlineTimer = setTimeout(resolve, timeoutMs);
    });
    // While closing, retries wait only briefly so shutdown stays within its bound.
    this.retryMaxMs = Math.min(this.retryMaxMs, Math.max(50, Math.floor(timeoutMs / 4)));
    await Promise.race([this.flush(), deadline]);
    clearTimeout(deadlineTimer);
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
    const lost = this.droppedBy.shutdown ?? 0;
    if (lost > 0) {
      const why = this.lastError === undefined ? 'not sent in time' : `last error: ${this.lastError}`;
      process.stderr.write(
        `@periscope/logging: shutdown could not deliver ${lost} log record(s) to ${this.target} at ${this.s.safeEndpoint} within ${Date.now() - started} ms (${why}); counted in periscope_logging_ship_dropped_total{reason="shutdown"}\n`,
      );
    }
  }
}

export function createHttpTransport(options: HttpTransportOptions = {}): HttpLogTransport {
  return new HttpLogTransport(options);
}
