// What every framework integration does per request, independent of the framework: a SERVER span
// continuing `traceparent` (or the span an HTTP auto-instrumentation already opened: never two),
// the context in which the app's handlers run (so log lines carry the trace id), and RED metrics
// by route template, all finished when the response closes (streaming answers included).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { context, ProxyTracerProvider, SpanKind, trace, type Context, type Span } from '@opentelemetry/api';
import { Buckets, type Metrics } from '@periscope/metrics';
import {
  extract,
  httpServerSpanEnd,
  httpServerSpanStart,
  httpSpanName,
  recordError,
  type HttpServerSpanOptions,
} from '@periscope/tracing';

/** The route label of requests that matched no route (404s): one series, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
const TRACER_NAME = '@periscope/health';

type Observe = (seconds: number) => void;

/** RED metrics per (method, route template, status code), with bound handles for the hot path. */
export interface RequestMetrics {
  observe(method: string, route: string, code: number, seconds: number): void;
}

const NOOP_METRICS: RequestMetrics = { observe() {} };

export function createRequestMetrics(metrics: Metrics | undefined): RequestMetrics {
  if (!metrics) return NOOP_METRICS;
  const histogram = metrics.histogram({
    name: 'periscope_http_server_request_duration_seconds',
    help: 'Requests answered by the app, by method, route template and status code (count = rate, 5xx = errors)',
    labelNames: ['method', 'route', 'code'] as const,
    buckets: Buckets.latency,
  });
  // route -> (method, code) -> bound handle: no key string is built per request.
  const handles = new Map<string, Map<number, Observe>>();
  let size = 0;
  return {
    observe(method, route, code, seconds) {
      let byRoute = handles.get(route);
      const key = code * 16 + methodIndex(method);
      let h = byRoute?.get(key);
      if (!h) {
        const bound = histogram.labels({ method, route, code: String(code) });
        h = (s) => bound.observe(s);
        // Bounded like the metric itself: past the cap, label sets are looked up each time.
        if (size < 2048) {
          if (!byRoute) handles.set(route, (byRoute = new Map()));
          byRoute.set(key, h);
          size++;
        }
      }
      h(seconds);
    },
  };
}

const METHOD_INDEX = new Map([...KNOWN_METHODS].map((m, i) => [m, i + 1]));
const methodIndex = (method: string) => METHOD_INDEX.get(method) ?? 0;

/** One request in flight: its span and the context the app's handlers must run in. */
export interface RequestScope {
  readonly span: Span;
  readonly context: Context;
  /** Records a thrown error on the span (message and type; the client never sees it). */
  fail(err: unknown): void;
}

// A property, not a WeakMap: a WeakMap entry per request made the garbage collector the largest cost.
const SCOPE = Symbol('periscope.requestScope');
type ScopedRequest = IncomingMessage & { [SCOPE]?: RequestScope };

/** The scope of a request begun with beginRequest (e.g. for an error handler); undefined without a tracing SDK. */
export function scopeOf(req: IncomingMessage): RequestScope | undefined {
  return (req as ScopedRequest)[SCOPE];
}

// The API's no-op provider, which the global proxy delegates to until an SDK registers one.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether a tracing SDK is registered. Without one every span is a no-op and there is no context
 * manager to carry one to the app's log lines, so a request needs its metrics only. A provider
 * from another copy of the API never equals this copy's no-op: it counts as an SDK (the safe side).
 */
function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider();
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate !== NOOP_PROVIDER;
}

/** How an integration finds a request's route template once the framework has matched it; undefined: no route. */
export type RouteOf = (req: IncomingMessage) => string | undefined;

/** What an integration counts requests with: made once, so a request allocates nothing for it. */
export interface RequestCounter {
  readonly route: RouteOf;
  readonly red: RequestMetrics;
}

const methodOf = (req: IncomingMessage) => (KNOWN_METHODS.has(req.method ?? '') ? req.method! : '_OTHER');

/**
 * Counts a request when its response closes: the whole per-request cost without a tracing SDK.
 * One small closure (`this` is the response): state written onto Express's responses, whose
 * prototype Express swaps per request, cost more than the closure.
 */
function countOnly(res: ServerResponse, counter: RequestCounter): void {
  const start = performance.now();
  res.on('close', function countOnClose(this: ServerResponse) {
    const { route, red } = counter;
    red.observe(
      methodOf(this.req),
      route(this.req) ?? UNMATCHED_ROUTE,
      this.statusCode,
      (performance.now() - start) / 1000,
    );
  });
}

/**
 * Starts the span (or adopts the active one: with the http auto-instrumentation on, the request
 * already runs in its SERVER span, which is renamed and enriched instead) and arranges for the
 * span to end and the request to be counted when `res` closes. `counter.route(req)` is asked then,
 * when the framework has matched the request; `undefined` means no route matched. `http.trustProxy`: take
 * client.address, server.* and url.scheme from the proxy headers. Without a tracing SDK only the
 * metrics are recorded and there is no scope (undefined).
 */
export function beginRequest(
  req: IncomingMessage,
  res: ServerResponse,
  counter: RequestCounter,
  http: HttpServerSpanOptions = {},
): RequestScope | undefined {
  if (!tracingRegistered()) return void countOnly(res, counter);
  const start = performance.now();
  const method = methodOf(req);
  const active = context.active();
  const existing = trace.getSpan(active);
  let span: Span;
  let ctx: Context;
  const owned = !existing?.isRecording();
  if (!owned) {
    span = existing!;
    ctx = active;
  } else {
    const parent = extract(req.headers, active);
    // The route is not matched yet: the span is renamed when the response closes.
    const { name, attributes } = httpServerSpanStart(req, undefined, http);
    span = trace.getTracer(TRACER_NAME).startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    ctx = trace.setSpan(parent, span);
  }
  let failed = false;
  const scope: RequestScope = {
    span,
    context: ctx,
    fail(err) {
      failed = true;
      recordError(span, err);
    },
  };
  (req as ScopedRequest)[SCOPE] = scope;
  let template: string | undefined;
  // An adopted span may be ended by its owner on 'finish': name it before that listener runs.
  const name = () => {
    if (template !== undefined) return;
    template = counter.route(req) ?? UNMATCHED_ROUTE;
    if (template !== UNMATCHED_ROUTE)
      span.updateName(httpSpanName(method, template)).setAttribute('http.route', template);
  };
  if (!owned) res.prependOnceListener('finish', name);
  // 'close' comes once per response: `on` spares the once-wrapper.
  res.on('close', () => {
    name();
    const code = res.statusCode;
    counter.red.observe(method, template!, code, (performance.now() - start) / 1000);
    httpServerSpanEnd(span, res, failed);
    if (owned) span.end();
  });
  return scope;
}

/** The body of a 5xx answer for a thrown error: never its message or stack. */
export const INTERNAL_ERROR_BODY = '{"error":"internal error"}';

/** A thrown value's HTTP status if it carries a valid one (http-errors, Fastify, HttpError), else 500. */
export function statusOf(err: unknown): number {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const s = typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.status === 'number' ? e.status : 500;
  return Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}
