// startOtlpPush(): the registry pushed over OTLP/HTTP (protobuf) on an interval, alongside or
// instead of /metrics. Cumulative temporality, so a lost push loses nothing: the next one carries
// the totals. Timers are unref'd (a pusher never keeps the process alive); each request is bounded
// by timeoutMs, and close() (a last push) by closeTimeoutMs, whether the endpoint is down, slow or
// black-holed. Failed pushes are counted in periscope_metrics_otlp_push_failures_total.
import http from 'node:http';
import https from 'node:https';
import { ConfigReader, NOOP_LOGGER, redactUrl, type Logger } from '@periscope/core';
import type { Shared } from './base';
import { MetricsConfigError, MetricsError } from './errors';
import type { Metrics } from './metrics';
import { collectOtlpMetrics } from './otlp-convert';
import { encodeMetricsRequest, type Attributes } from './otlp-encode';
import { resolveOtlpEndpoint, resolveResource } from './otlp-resource';
import type { Counter } from './types';

export interface OtlpPushOptions {
  /** Base URL of the collector; `/v1/metrics` is appended (unless already there).
   *  Env: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (used as is), else OTEL_EXPORTER_OTLP_ENDPOINT. Default http://localhost:4318. */
  endpoint?: string;
  /** Between pushes. Env OTEL_METRIC_EXPORT_INTERVAL. Default 60000 ms. */
  intervalMs?: number;
  /** Request headers (e.g. authorization), over OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_METRICS_HEADERS. */
  headers?: Record<string, string>;
  /** One request. Env OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT. Default 10000 ms. */
  timeoutMs?: number;
  /** close() settles within this, last push included. Env PERISCOPE_METRICS_OTLP_CLOSE_TIMEOUT_MS. Default 3000 ms. */
  closeTimeoutMs?: number;
  /** service.name. Env OTEL_SERVICE_NAME. Default unknown_service:node. */
  serviceName?: string;
  /** Over OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes?: Record<string, string | number | boolean>;
  /** Failed pushes are logged here (once per failure streak). Default NOOP_LOGGER. */
  logger?: Logger;
  /** Read instead of process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface OtlpPush {
  /** Where the pushes go (credentials masked). */
  readonly url: string;
  /** The resource attributes sent with every push. */
  readonly resource: Attributes;
  /** Pushes now; rejects with OtlpPushError when the endpoint refuses or cannot be reached. */
  push(): Promise<void>;
  /** Stops the interval and makes a last push, settling within closeTimeoutMs. Idempotent; never rejects. */
  close(): Promise<void>;
}

/** A push the OTLP endpoint refused, or could not be reached for. */
export class OtlpPushError extends MetricsError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super('ERR_METRICS_PUSH', message, options);
  }
}

const KNOWN: readonly (keyof OtlpPushOptions)[] = [
  'endpoint',
  'intervalMs',
  'headers',
  'timeoutMs',
  'closeTimeoutMs',
  'serviceName',
  'resourceAttributes',
  'logger',
  'env',
];

const SCOPE = { name: '@periscope/metrics', version: '0.1.0' };

function resolve(options: OtlpPushOptions) {
  const read = new ConfigReader({ env: options.env, error: (o, a, g, s) => new MetricsConfigError(o, a, g, s) });
  read.rejectUnknown(options, KNOWN, 'startOtlpPush()');
  read.oneOf('temporality', undefined, ['cumulative'], {
    env: 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
    default: 'cumulative',
  });
  return {
    ...resolveOtlpEndpoint(read, 'metrics', options),
    intervalMs: read.duration('intervalMs', options.intervalMs, {
      env: 'OTEL_METRIC_EXPORT_INTERVAL',
      default: 60_000,
      min: 10,
    }),
    closeTimeoutMs: read.duration('closeTimeoutMs', options.closeTimeoutMs, {
      env: 'PERISCOPE_METRICS_OTLP_CLOSE_TIMEOUT_MS',
      default: 3000,
      min: 0,
    }),
    resource: resolveResource(read, options.serviceName, options.resourceAttributes),
  };
}

/** One POST, bounded by `timeoutMs`; `track` receives the request so close() can cut it. */
function post(
  url: URL,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
  track: (req: http.ClientRequest | undefined) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-type': 'application/x-protobuf', 'content-length': body.length },
    });
    track(req);
    // Headers and body leave at once: without this, Nagle and delayed ACKs add ~40 ms per round trip.
    req.once('socket', (socket) => socket.setNoDelay(true));
    const timer = setTimeout(() => req.destroy(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    const done = (err?: Error) => {
      clearTimeout(timer);
      track(undefined);
      if (err) reject(err);
      else resolve();
    };
    req.once('error', (e) =>
      done(new OtlpPushError(`OTLP metrics push failed: ${e.message}`, undefined, { cause: e })),
    );
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) done();
        else done(new OtlpPushError(`OTLP metrics push refused: HTTP ${status}`, status));
      });
      res.once('error', (e) =>
        done(new OtlpPushError(`OTLP metrics push failed: ${e.message}`, undefined, { cause: e })),
      );
    });
    req.end(body);
  });
}

/** Pushes `metrics` to an OTLP/HTTP endpoint every intervalMs until close(). Throws MetricsConfigError on bad options. */
export function startOtlpPush(metrics: Metrics, options: OtlpPushOptions = {}): OtlpPush {
  const cfg = resolve(options);
  const logger = options.logger ?? NOOP_LOGGER;
  const url = new URL(cfg.url);
  const shownUrl = redactUrl(cfg.url, { form: 'masked' });
  const defaults = (metrics as unknown as { shared: Shared }).shared.defaultLabels;
  const failures: Counter<'reason'> = metrics.counter({
    name: 'periscope_metrics_otlp_push_failures_total',
    help: 'OTLP metrics pushes that failed, by reason (refused: an HTTP error status; unreachable: no response)',
    labelNames: ['reason'],
  });
  const start = BigInt(Math.round(performance.timeOrigin * 1000)) * 1000n;
  let inFlight: http.ClientRequest | undefined;
  let failing = false;
  let closed: Promise<void> | undefined;
  /** Set when close() has given up: nothing more is sent. */
  let cut = false;

  const push = async (): Promise<void> => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const list = await collectOtlpMetrics(metrics.registry, defaults, { startTimeUnixNano: start, timeUnixNano: now });
    if (cut) return;
    const body = encodeMetricsRequest(cfg.resource, SCOPE, list);
    try {
      await post(url, body, cfg.headers, cfg.timeoutMs, (r) => (inFlight = r));
      failing = false;
    } catch (e) {
      failures.inc({ reason: e instanceof OtlpPushError && e.status !== undefined ? 'refused' : 'unreachable' });
      if (!failing) logger.warn('OTLP metrics push failed', { url: shownUrl, error: (e as Error).message });
      failing = true;
      throw e;
    }
  };

  let running: Promise<void> | undefined;
  const tick = () => {
    // No overlap: a push still waiting on a slow endpoint is not joined by another.
    if (running) return;
    running = push()
      .catch(() => undefined)
      .finally(() => (running = undefined));
  };
  const interval = setInterval(tick, cfg.intervalMs);
  interval.unref();

  return {
    url: shownUrl,
    resource: cfg.resource,
    push,
    close() {
      closed ??= (async () => {
        clearInterval(interval);
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((r) => {
          timer = setTimeout(r, cfg.closeTimeoutMs);
          timer.unref();
        });
        const last = (running ?? Promise.resolve()).then(() => (cut ? undefined : push())).catch(() => undefined);
        await Promise.race([last, deadline]);
        clearTimeout(timer);
        // Past the bound: the request still open is cut, so no socket outlives close().
        cut = true;
        inFlight?.destroy();
        await last;
      })();
      return closed;
    },
  };
}
