// inject()/extract() with the configured propagators (W3C trace context + baggage by default,
// B3 on request), and wrappers for node:http handlers and outgoing node:http requests (fetch: http-client.ts).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import {
  context,
  SpanKind,
  trace as otelTrace,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import { isPromiseLike, recordError } from './api';
import { PROBE_PATHS } from './config';
import { httpMethod, httpServerSpanEnd, httpServerSpanStart, httpSpanName, type HttpServerSpanOptions } from './http';
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

export interface HttpHandlerOptions extends HttpServerSpanOptions {
  /** Paths (without query) never traced; default the probe and scrape routes. */
  ignorePaths?: readonly (string | RegExp)[];
  /** The low-cardinality route for the span name, e.g. '/tasks/:id'; without one the span is named by the method alone. */
  route?: (req: IncomingMessage) => string | undefined;
}

export type NodeHttpHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * Wraps a node:http request handler: continues an incoming traceparent, runs the handler in a
 * SERVER span `{METHOD} {route}` (`{METHOD}` when no route is given) with the HTTP conventions'
 * attributes, ending when the response finishes (ERROR with error.type on 5xx or an aborted
 * request, never on 4xx), and leaves probe routes untraced.
 */
export function wrapHttpHandler<H extends NodeHttpHandler>(
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
      if (route && active)
        active.setAttribute(ATTR_HTTP_ROUTE, route).updateName(httpSpanName(httpMethod(req.method), route));
      return handler.call(this, req, res);
    }
    const { name, attributes } = httpServerSpanStart(req, options.route?.(req), options);
    const parent = extract(req.headers);
    const span = getTracer().startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    let ended = false;
    let failed = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      httpServerSpanEnd(span, res, failed);
      span.end();
    };
    res.once('finish', finish);
    res.once('close', finish);
    const fail = (e: unknown) => {
      failed = true;
      recordError(span, e);
    };
    try {
      const result = context.with(otelTrace.setSpan(parent, span), () => handler.call(this, req, res));
      if (isPromiseLike(result))
        return Promise.resolve(result).catch((e: unknown) => {
          fail(e);
          throw e;
        });
      return result;
    } catch (e) {
      fail(e);
      throw e;
    }
  };
  return wrapped as (req: IncomingMessage, res: ServerResponse) => ReturnType<H>;
}

/** Outgoing node:http headers with the active context injected: `http.request(url, { headers: traceHeaders(h) })`. */
export function traceHeaders(headers: OutgoingHttpHeaders = {}, ctx: Context = context.active()): OutgoingHttpHeaders {
  const out: HeaderCarrier = {};
  for (const [k, v] of Object.entries(headers)) out[k] = v;
  return inject(out, ctx);
}

export { tracedFetch, type TracedFetchOptions } from './http-client';
