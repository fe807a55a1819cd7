// Push to Pyroscope's /ingest (pprof in a multipart form, as its SDKs send it), with a bounded
// queue (the oldest profile is dropped, and counted, when full), batched flushes, exponential
// backoff with jitter on failures, and a bounded close(). The URL's credentials never reach a log
// or an error message (core's redactUrl).
import { NOOP_LOGGER, redactUrl, type ConfigReader, type Env, type Logger } from '@periscope/core';
import { reader } from './config';
import { PushError } from './errors';

/** Anything with a pprof export and a time range: CpuProfile and HeapProfile. */
export interface PushableProfile {
  kind: 'cpu' | 'heap';
  startedAt: number;
  durationMs: number;
  labels: Readonly<Record<string, string>>;
  intervalUs?: number;
  toPprof(): Buffer;
}

export interface PyroscopeOptions {
  /** Server URL (e.g. http://127.0.0.1:4040). Required (PERISCOPE_PROFILING_PYROSCOPE_URL). */
  url?: string;
  /** Application name. Default $OTEL_SERVICE_NAME, else "periscope". */
  appName?: string;
  /** Tags on every profile (merged with each profile's labels). */
  tags?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>` (PERISCOPE_PROFILING_PYROSCOPE_TOKEN). */
  authToken?: string;
  /** Profiles queued at most; the oldest is dropped beyond. Default 60. */
  maxQueue?: number;
  /** Profiles sent per flush. Default 10. */
  batchSize?: number;
  /** Flush period. Default 10000 ms. */
  flushIntervalMs?: number;
  /** Per request. Default 10000 ms. */
  timeoutMs?: number;
  /** First retry delay after a failure; doubles up to maxBackoffMs. Default 1000 ms. */
  backoffMs?: number;
  /** Default 60000 ms. */
  maxBackoffMs?: number;
  logger?: Logger;
  env?: Env;
}

export interface PushStats {
  sent: number;
  dropped: number;
  failed: number;
  queued: number;
}

const KEYS = [
  'url',
  'appName',
  'tags',
  'authToken',
  'maxQueue',
  'batchSize',
  'flushIntervalMs',
  'timeoutMs',
  'backoffMs',
  'maxBackoffMs',
  'logger',
  'env',
] as const;

interface Item {
  body: Buffer;
  from: number;
  until: number;
  name: string;
  sampleRate: number;
}

/** Pyroscope's `app{k=v,…}`; characters its parser rejects become `_`. */
export function pyroscopeName(app: string, tags: Record<string, string>): string {
  const clean = (s: string) => s.replace(/[{}=,\s"]/g, '_');
  const pairs = Object.entries(tags).map(([k, v]) => `${k.replace(/[^A-Za-z0-9_.]/g, '_')}=${clean(v)}`);
  return `${clean(app)}{${pairs.join(',')}}`;
}

export class PyroscopeExporter {
  private readonly queue: Item[] = [];
  private readonly counts = { sent: 0, dropped: 0, failed: 0 };
  private readonly timer: NodeJS.Timeout;
  private readonly url: string;
  private readonly shownUrl: string;
  private readonly basic: string | undefined;
  private readonly cfg: Required<Omit<PyroscopeOptions, 'url' | 'authToken' | 'logger' | 'env'>> & {
    authToken?: string;
  };
  private readonly log: Logger;
  private failures = 0;
  private retryAt = 0;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly inflight = new Set<AbortController>();

  constructor(options: PyroscopeOptions = {}) {
    const r: ConfigReader = reader(options.env, 'pyroscope');
    r.rejectUnknown(options, KEYS);
    const url = r.url('url', options.url, {
      env: 'PERISCOPE_PROFILING_PYROSCOPE_URL',
      default: undefined,
      protocols: ['http:', 'https:'],
    });
    if (url === undefined) r.fail('url', 'a Pyroscope URL (http or https)', undefined);
    // fetch() refuses URLs with credentials: they travel as a Basic Authorization header instead.
    const parsed = new URL(url);
    this.basic =
      parsed.username === '' && parsed.password === ''
        ? undefined
        : `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
    this.url = parsed.href.replace(/\/+$/, '');
    this.shownUrl = redactUrl(url, { form: 'masked' });
    const appName = r.string('appName', options.appName, { env: 'OTEL_SERVICE_NAME', default: 'periscope' });
    const n = (o: string, v: number | undefined, def: number, min: number) =>
      r.integer(o, v, { default: def, min, max: 86_400_000 });
    this.cfg = {
      appName,
      tags: { ...(options.tags ?? {}) },
      authToken: r.string('authToken', options.authToken, {
        env: 'PERISCOPE_PROFILING_PYROSCOPE_TOKEN',
        default: undefined,
      }),
      maxQueue: n('maxQueue', options.maxQueue, 60, 1),
      batchSize: n('batchSize', options.batchSize, 10, 1),
      flushIntervalMs: n('flushIntervalMs', options.flushIntervalMs, 10_000, 1),
      timeoutMs: n('timeoutMs', options.timeoutMs, 10_000, 1),
      backoffMs: n('backoffMs', options.backoffMs, 1000, 1),
      maxBackoffMs: n('maxBackoffMs', options.maxBackoffMs, 60_000, 1),
    };
    this.log = options.logger ?? NOOP_LOGGER;
    this.timer = setInterval(() => void this.flush(), this.cfg.flushIntervalMs);
    this.timer.unref();
  }

  /** Queues a profile (pprof encoded now); drops the oldest when the queue is full. */
  push(profile: PushableProfile): void {
    if (this.closed) return;
    const from = Math.floor(profile.startedAt / 1000);
    const until = Math.max(from + 1, Math.ceil((profile.startedAt + profile.durationMs) / 1000));
    const hz = profile.intervalUs ? Math.round(1e6 / profile.intervalUs) : 100;
    const tags = { ...this.cfg.tags, ...profile.labels };
    const app = profile.kind === 'cpu' ? `${this.cfg.appName}.cpu` : `${this.cfg.appName}.inuse_space`;
    this.queue.push({ body: profile.toPprof(), from, until, name: pyroscopeName(app, tags), sampleRate: hz });
    while (this.queue.length > this.cfg.maxQueue) {
      this.queue.shift();
      this.counts.dropped++;
    }
  }

  stats(): PushStats {
    return { ...this.counts, queued: this.queue.length };
  }

  /** Sends up to batchSize queued profiles, one request each; stops at the first failure (backoff). */
  flush(): Promise<void> {
    this.flushing ??= this.sendBatch().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async sendBatch(): Promise<void> {
    if (Date.now() < this.retryAt) return;
    for (let i = 0; i < this.cfg.batchSize && this.queue.length > 0; i++) {
      const item = this.queue[0];
      try {
        await this.send(item);
        this.queue.shift();
        this.counts.sent++;
        this.failures = 0;
      } catch (err) {
        const status = err instanceof PushError ? err.status : undefined;
        const permanent = status !== undefined && status >= 400 && status < 500 && status !== 429;
        this.counts.failed++;
        if (permanent) this.queue.shift();
        this.failures++;
        const delay = Math.min(this.cfg.maxBackoffMs, this.cfg.backoffMs * 2 ** (this.failures - 1));
        this.retryAt = Date.now() + delay * (0.5 + Math.random() / 2);
        this.log.warn('pyroscope: push failed', {
          url: this.shownUrl,
          status,
          dropped: permanent,
          error: err instanceof Error ? err.message : String(err),
        });
        return;
      }
    }
  }

  private async send(item: Item): Promise<void> {
    const boundary = `periscope${Math.random().toString(16).slice(2)}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="profile"; filename="profile.pprof"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    const body = Buffer.concat([head, item.body, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    const query = new URLSearchParams({
      name: item.name,
      from: String(item.from),
      until: String(item.until),
      sampleRate: String(item.sampleRate),
      spyName: 'nodespy',
      format: 'pprof',
    });
    const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}` };
    if (this.cfg.authToken !== undefined) headers.authorization = `Bearer ${this.cfg.authToken}`;
    else if (this.basic !== undefined) headers.authorization = this.basic;
    const controller = new AbortController();
    this.inflight.add(controller);
    const timer = setTimeout(() => controller.abort(), this.cfg.timeoutMs);
    try {
      const res = await fetch(`${this.url}/ingest?${query}`, {
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
      });
      await res.arrayBuffer();
      if (!res.ok) throw new PushError(`pyroscope answered ${res.status} at ${this.shownUrl}`, res.status);
    } catch (err) {
      if (err instanceof PushError) throw err;
      throw new PushError(`pyroscope push to ${this.shownUrl} failed: ${(err as Error).message}`, undefined, err);
    } finally {
      clearTimeout(timer);
      this.inflight.delete(controller);
    }
  }

  /** Flushes what is queued (one batch), bounded by timeoutMs; then aborts what is in flight. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.retryAt = 0;
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((r) => (bound = setTimeout(r, this.cfg.timeoutMs)))]);
    clearTimeout(bound);
    for (const c of this.inflight) c.abort();
  }
}

export function createPyroscopeExporter(options?: PyroscopeOptions): PyroscopeExporter {
  return new PyroscopeExporter(options);
}
