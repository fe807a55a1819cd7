// CLIENT spans of outgoing fetch calls after the HTTP conventions: `{method}` (or
// `{method} {url.template}`), server.*, redacted url.full, ERROR with error.type from 400 on and on
// network failures, while a caller's deliberate abort is no error.
import { context, SpanKind, trace as otelTrace, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { recordError } from './api';
import { httpClientSpanResponse, httpClientSpanStart } from './http';
import { getPropagator, getTracer, isAutoInstrumented } from './state';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface TracedFetchOptions {
  /**
   * The low-cardinality template of a request's URL (`/users/{id}`), for `url.template` and the
   * span name `{method} {template}`; default none (the span is named by the method alone).
   */
  urlTemplate?: (url: string, method: string) => string | undefined;
}

/** The `error.type` of a failed fetch: a timeout, the network error's code (ECONNREFUSED…), else its class. */
export function fetchErrorType(err: unknown, signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  if ((reason as Error | undefined)?.name === 'TimeoutError' || (err as Error | undefined)?.name === 'TimeoutError')
    return 'timeout';
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string' && cause.code) return cause.code;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code) return code;
  return (err instanceof Error && err.name) || 'Error';
}

/** A caller's deliberate abort (AbortController.abort()), as opposed to a timeout or a network error. */
function cancelledByCaller(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && (signal.reason as Error | undefined)?.name !== 'TimeoutError';
}

function failed(span: Span, err: unknown, signal: AbortSignal | undefined): void {
  // The conventions: a cancellation the caller asked for leaves the status unset and no error.type.
  if (!cancelledByCaller(signal)) {
    recordError(span, err);
    span.setAttribute(ATTR_ERROR_TYPE, fetchErrorType(err, signal));
  }
  span.end();
}

/**
 * Returns a fetch that runs each request in a CLIENT span and injects the trace headers
 * (traceparent, tracestate, baggage) into it. ERROR with error.type the status code from 400 on,
 * and on network errors; a request the caller aborted through its AbortSignal is not an error.
 */
export function tracedFetch(fetchImpl: FetchLike = globalThis.fetch, options: TracedFetchOptions = {}): FetchLike {
  return (input, init) => {
    // The undici instrumentation already spans and propagates every call of the global fetch.
    if (fetchImpl === globalThis.fetch && isAutoInstrumented('undici')) return fetchImpl(input, init);
    const request = input instanceof Request ? input : undefined;
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const url = request ? request.url : String(input);
    const signal = init?.signal ?? request?.signal ?? undefined;
    const { name, attributes } = httpClientSpanStart(method, url, options.urlTemplate?.(url, method));
    const span = getTracer().startSpan(name, { kind: SpanKind.CLIENT, attributes });
    const headers = new Headers(init?.headers ?? request?.headers);
    const ctx = otelTrace.setSpan(context.active(), span);
    getPropagator().inject(ctx, headers, { set: (h, k, v) => h.set(k, v) });
    let result: Promise<Response>;
    try {
      result = context.with(ctx, () => fetchImpl(input, { ...init, headers }));
    } catch (e) {
      failed(span, e, signal);
      throw e;
    }
    return result.then(
      (response) => {
        httpClientSpanResponse(span, response.status);
        span.end();
        return response;
      },
      (e: unknown) => {
        failed(span, e, signal);
        throw e;
      },
    );
  };
}
