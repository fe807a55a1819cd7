// trace(), @Traced(), currentSpan(), setAttributes(): spans around sync and async code.
import {
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace as otelTrace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
import { getActive, getContextManager, getTracer, redactText } from './state';
import { unsampledChild } from './unsampled-children';

export interface TraceOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  /** Start a new trace even when a span is active. */
  root?: boolean;
}

export function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // BigInt or a cycle: still record something rather than replace the caller's error.
    return String(value);
  }
}

/** Records a thrown value on the span: exception event, ERROR status, `error.type`. */
export function recordError(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(describeThrown(err));
  const message = redactText(e.message);
  span.recordException({ name: e.name, message, ...(e.stack ? { stack: redactText(e.stack) } : {}) });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  const code = (e as { code?: unknown }).code;
  span.setAttribute('error.type', typeof code === 'string' && code ? code : e.name || 'Error');
}

/**
 * Ends `span` when `result` settles (or now, for a plain value) and records a throw or rejection.
 * `before` runs first on success, so the caller can add attributes from the result.
 */
export function endWith<T>(span: Span, result: T, before?: (value: unknown) => void): T {
  if (isPromiseLike(result)) {
    return result.then(
      (v) => {
        before?.(v);
        span.end();
        return v;
      },
      (e: unknown) => {
        recordError(span, e);
        span.end();
        throw e;
      },
    ) as T;
  }
  before?.(result);
  span.end();
  return result;
}

/** Runs `fn` in `span`'s context; ends the span when `fn` returns or its promise settles. */
export function runInSpan<T, This>(
  span: Span,
  thisArg: This,
  fn: (this: This, span: Span) => T,
  before?: (value: unknown) => void,
  parent?: Context,
): T {
  const cm = getContextManager();
  const ctx = otelTrace.setSpan(parent ?? cm.active(), span);
  // An unsampled span needs its context (children stay unsampled) but no bookkeeping.
  if (!span.isRecording()) return cm.with(ctx, fn, thisArg, span);
  let result: T;
  try {
    result = cm.with(ctx, fn, thisArg, span);
  } catch (e) {
    recordError(span, e);
    span.end();
    throw e;
  }
  return endWith(span, result, before);
}

const ids = new RandomIdGenerator();
const NO_ATTRIBUTES: Attributes = Object.freeze({});

/**
 * Starts a span of trace(), @Traced() and the GenAI helpers. A span whose fate is already known — a drop rule matches
 * (a decision on its name and attributes alone), or its parent is unsampled under a parent-based
 * sampler (the default and the recommended production set-up, where most spans are such children)
 * — is built here as the SDK would: non-recording, a new span id, the parent's trace id and trace
 * state or a new trace id. That skips the SDK's sampler call, attribute and link copies and debug
 * log, a good part of an unsampled span's cost.
 */
export function startSpan(name: string, options: TraceOptions | undefined, parent: Context): Span {
  const child = getActive()?.sampler.parentDecides ? unsampledChild(parent, options) : undefined;
  return child ?? startUndecided(name, options, parent);
}

/** startSpan() once the parent has not decided: a drop rule may still, else the tracer does. */
function startUndecided(name: string, options: TraceOptions | undefined, parent: Context): Span {
  const active = getActive();
  if (
    active &&
    !isTracingSuppressed(parent) &&
    active.sampler.dropsByRule(name, options?.attributes ?? NO_ATTRIBUTES)
  ) {
    const parentSpan = options?.root ? undefined : otelTrace.getSpanContext(parent);
    const valid = parentSpan !== undefined && otelTrace.isSpanContextValid(parentSpan);
    return otelTrace.wrapSpanContext({
      traceId: valid ? parentSpan.traceId : ids.generateTraceId(),
      spanId: ids.generateSpanId(),
      traceFlags: TraceFlags.NONE,
      traceState: valid ? parentSpan.traceState : undefined,
    });
  }
  return getTracer().startSpan(name, options, parent);
}

/**
 * startSpan() for the GenAI helpers, whose attributes take some building: a child of an
 * unsampled parent (nine spans in ten at 10 % head sampling) is answered before they are built.
 */
export function startSpanLazy(name: string, kind: SpanKind, parent: Context, attributes: () => Attributes): Span {
  const child = getActive()?.sampler.parentDecides ? unsampledChild(parent, undefined) : undefined;
  return child ?? startUndecided(name, { kind, attributes: attributes() }, parent);
}

/**
 * Runs `fn` inside a new span named `name`. Works for sync and async functions: a throw or a
 * rejection sets ERROR status and records the exception; the span ends when the promise settles.
 * The return value (the same promise type) and `this` are passed through.
 */
export function trace<T, This = unknown>(
  this: This,
  name: string,
  fn: (this: This, span: Span) => T,
  options?: TraceOptions,
): T {
  const parent = getContextManager().active();
  return runInSpan(startSpan(name, options, parent), this, fn, undefined, parent);
}

/**
 * Method decorator (TypeScript 5 standard decorators): every call runs in a span named
 * `name`, or `Class.method` by default.
 */
export function Traced(name?: string, options?: TraceOptions) {
  return function <This, Args extends unknown[], R>(
    method: (this: This, ...args: Args) => R,
    ctx: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => R>,
  ) {
    const methodName = String(ctx.name);
    return function (this: This, ...args: Args): R {
      const owner = ctx.static
        ? (this as { name?: string }).name
        : (this as { constructor?: { name?: string } })?.constructor?.name;
      const spanName = name ?? (owner ? `${owner}.${methodName}` : methodName);
      const parent = getContextManager().active();
      return runInSpan(startSpan(spanName, options, parent), this, () => method.apply(this, args), undefined, parent);
    };
  };
}

/** The active span, or undefined outside any span. */
export function currentSpan(): Span | undefined {
  return otelTrace.getActiveSpan();
}

/** Sets attributes on the active span; a no-op outside any span. */
export function setAttributes(attributes: Attributes): void {
  otelTrace.getActiveSpan()?.setAttributes(attributes);
}

export { SpanKind, SpanStatusCode };
