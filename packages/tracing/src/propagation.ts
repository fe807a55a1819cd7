// inject()/extract() with the configured propagators (W3C trace context + baggage by default,
// B3 on request), and wrappers for node:http handlers and outgoing fetch/http requests.
import { redactUrl } from '@periscope/core';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace as otelTrace,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { endWith, isPromiseLike, recordError } from './api';
import { PROBE_PATHS } from './config';
import { getPropagator, getTracer, isAutoInstrumented } from './state';

export type HeaderCarrier = Record<string, string | string[] | number | undefined>;

const getter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    // Node lowercases incoming header names; plain objects built by hand may not.
    let v = carrier[key];
    if (v === undefined) {
      const lower = key.toLowerCase();
      for (const k in carrier)
        if (k.toLowerCase() === lower) {
          v = carrier[k];
          break;
        }
    }
    return typeof v === 'number' ? String(v) : v;
  },
};

const setter: TextMapSetter<HeaderCarrier> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/** Writes the context (active by default) into `carrier` as traceparent/tracestate/baggage (or B3) headers; returns the carrier. */
export function inject<C extends HeaderCarrier>(carrier: C, ctx: Context = context.active()): C {
  getPropagator().inject(ctx, carrier, setter);
  return carrier;
}

/**
 * Reads a remote parent (and baggage) from `carrier` into a context based on `base` (active by
 * default). A missing or malformed header yields `base` unchanged, so the next span starts a new
 * trace; this never throws.
 */
export function extract(carrier: HeaderCarrier | undefined | null, base: Context = context.active()): Context {
  if (!carrier || typeof carrier !== 'object') return base;
  try {
    return getPropagator().extract(base, carrier, getter);
  } catch {
    // Propagators are meant not to throw; if a third-party one does, the request still goes on untraced-by-parent.
    return base;
  }
}

export interface HttpHandlerOptions {
  /** Paths (without query) never traced; default the probe and scrape routes. */
  ignorePaths?: readonly (string | RegExp)[];
  /** The low-cardinality route for the span name, e.g. '/tasks/:id'; default the path. */
  route?: (req: IncomingMessage) => string | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/**
 * Wraps a node:http request handler: continues an incoming traceparent, runs the handler in a
 * SERVER span `{METHOD} {route}` (`{METHOD}` when no route is given) that ends when the response finishes (ERROR on 5xx or an
 * aborted request), and leaves probe routes untraced.
 */
export function wrapHttpHandler<H extends Handler>(
  handler: H,
  options: HttpHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => ReturnType<H> {
  const ignore = options.ignorePaths ?? PROBE_PATHS;
  const ignored = (path: string) => ignore.some((p) => (typeof p === 'string' ? p === path : p.test(path)));
  const wrapped = function (this: unknown, req: IncomingMessage, res: ServerResponse): unknown {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (ignored(path)) return handler.call(this, req, res);
    if (isAutoInstrumented('http')) {
      // The http instrumentation already runs this request in its SERVER span: name it by our route.
      const route = options.route?.(req);
      const active = otelTrace.getActiveSpan();
      if (route && active) active.setAttribute('http.route', route).updateName(`${req.method ?? '_OTHER'} ${route}`);
      return handler.call(this, req, res);
    }
    const method = KNOWN_METHODS.has(req.method ?? '') ? req.method! : '_OTHER';
    const route = options.route?.(req);
    const parent = extract(req.headers);
    // The semantic conventions forbid the raw path in the span name (unbounded cardinality):
    // `{method} {route}` when the route template is known, else `{method}` alone.
    const span = getTracer().startSpan(
      route ? `${method} ${route}` : method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          ...(method === '_OTHER' && req.method ? { 'http.request.method_original': req.method } : {}),
          'url.scheme': 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http',
          'url.path': path,
          ...(route ? { 'http.route': route } : {}),
          ...(req.headers['user-agent'] ? { 'user_agent.original': req.headers['user-agent'] } : {}),
        },
      },
      parent,
    );
    let ended = false;
    const finish = (aborted: boolean) => {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      else if (aborted)
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted before the response finished' });
      span.end();
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(!res.writableFinished));
    try {
      const result = context.with(otelTrace.setSpan(parent, span), () => handler.call(this, req, res));
      if (isPromiseLike(result))
        return Promise.resolve(result).catch((e: unknown) => {
          recordError(span, e);
          throw e;
        });
      return result;
    } catch (e) {
      recordError(span, e);
      throw e;
    }
  };
  return wrapped as (req: IncomingMessage, res: ServerResponse) => ReturnType<H>;
}

type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Returns a fetch that runs each request in a CLIENT span `{METHOD}` and injects the trace
 * headers (traceparent, tracestate, baggage) into it. ERROR status on 5xx and network errors.
 */
export function tracedFetch(fetchImpl: FetchLike = globalThis.fetch): FetchLike {
  return (input, init) => {
    // The undici instrumentation already spans and propagates every call of the global fetch.
    if (fetchImpl === globalThis.fetch && isAutoInstrumented('undici')) return fetchImpl(input, init);
    const request = input instanceof Request ? input : undefined;
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const url = request ? request.url : String(input);
    const span = getTracer().startSpan(method, {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': method, 'url.full': redactUrl(url, { form: 'semconv' }) },
    });
    const headers = new Headers(init?.headers ?? request?.headers);
    getPropagator().inject(otelTrace.setSpan(context.active(), span), headers, { set: (h, k, v) => h.set(k, v) });
    let result: Promise<Response>;
    try {
      result = context.with(otelTrace.setSpan(context.active(), span), () => fetchImpl(input, { ...init, headers }));
    } catch (e) {
      recordError(span, e);
      span.end();
      throw e;
    }
    return endWith(span, result, (v) => {
      const status = (v as Response).status;
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    });
  };
}

/** Outgoing node:http headers with the active context injected: `http.request(url, { headers: traceHeaders(h) })`. */
export function traceHeaders(headers: OutgoingHttpHeaders = {}, ctx: Context = context.active()): OutgoingHttpHeaders {
  const out: HeaderCarrier = {};
  for (const [k, v] of Object.entries(headers)) out[k] = v;
  return inject(out, ctx);
}
