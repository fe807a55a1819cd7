// Children of unsampled parents, built without the SDK. Under the parentbased_* samplers (built
// with their default delegates) a child of a valid unsampled parent is NOT_RECORD whatever its
// name or attributes, yet the SDK's Tracer first copies and validates the attributes, maps the
// links, asks the sampler and logs a debug line: most of what such a span costs. With head
// sampling at 10 % (the production set-up the README recommends) nine spans in ten are such
// children — the cache's Redis and disk spans, the pool's statements. The provider registered
// globally hands out tracers that answer those children themselves, as the SDK would have:
// non-recording, the parent's trace id and trace state, a new span id. Everything else (roots,
// sampled parents, suppressed tracing) goes to the SDK's tracer unchanged.
import {
  context as contextApi,
  trace,
  TraceFlags,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerOptions,
  type TracerProvider,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import type { OwnTraceIds } from './w3c';

// Span ids as the SDK's RandomIdGenerator makes them (Math.random, never all zeros), through a
// byte-to-hex table instead of a Buffer's toString('hex'): 2-3x cheaper, and this runs per span.
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex32 = (n: number) => HEX[n >>> 24] + HEX[(n >>> 16) & 255] + HEX[(n >>> 8) & 255] + HEX[n & 255];

/** A random 16-hex-digit span id, never the invalid all-zero one. */
export function newSpanId(): string {
  const high = (Math.random() * 0x1_0000_0000) >>> 0;
  const low = (Math.random() * 0x1_0000_0000) >>> 0;
  return hex32(high) + hex32(high === 0 && low === 0 ? 1 : low);
}

/** The non-recording child the SDK would build for `ctx`'s span, or undefined when the SDK must decide. */
export function unsampledChild(ctx: Context, options: SpanOptions | undefined): Span | undefined {
  if (options?.root === true) return undefined;
  const parent = trace.getSpanContext(ctx);
  if (parent === undefined || (parent.traceFlags & TraceFlags.SAMPLED) !== 0) return undefined;
  if (!trace.isSpanContextValid(parent) || isTracingSuppressed(ctx)) return undefined;
  return trace.wrapSpanContext({
    traceId: parent.traceId,
    spanId: newSpanId(),
    traceFlags: TraceFlags.NONE,
    traceState: parent.traceState,
  });
}

/** How a root's fate is decided before the SDK is asked: the trace ids and the sampler the SDK itself uses. */
export interface RootDecider {
  /** The SDK's id generator: a trace id made here is recorded as ours (the W3C random flag) like the SDK's. */
  ids: OwnTraceIds;
  /** Whether the head sampler's base would record a root of this trace id (its ratio, not its rules or rate limit). */
  rootRecords(traceId: string): boolean;
}

/**
 * A root the head sampler's base would not record, built here: a new trace id, non-recording.
 * Otherwise undefined, and the SDK's next trace id is the one decided on, so its sampler sees the
 * same id (the ratio decision is a function of the id) and the odds stay the configured ratio.
 */
function unsampledRoot(ctx: Context, options: SpanOptions | undefined, roots: RootDecider): Span | undefined {
  if (options?.root !== true) {
    const parent = trace.getSpanContext(ctx);
    if (parent !== undefined && trace.isSpanContextValid(parent)) return undefined;
  }
  if (isTracingSuppressed(ctx)) return undefined;
  const traceId = roots.ids.generateTraceId();
  if (roots.rootRecords(traceId)) {
    roots.ids.reuseNext(traceId);
    return undefined;
  }
  return trace.wrapSpanContext({ traceId, spanId: newSpanId(), traceFlags: TraceFlags.NONE });
}

/** A tracer that answers unsampled children and roots itself and hands every other span to the SDK's tracer. */
export class ParentDecidingTracer implements Tracer {
  constructor(
    private readonly sdk: Tracer,
    private readonly roots: RootDecider,
  ) {}

  startSpan(name: string, options?: SpanOptions, ctx: Context = contextApi.active()): Span {
    return (
      unsampledChild(ctx, options) ?? unsampledRoot(ctx, options, this.roots) ?? this.sdk.startSpan(name, options, ctx)
    );
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    ctx: Context,
    fn: F,
  ): ReturnType<F>;
  // The argument juggling mirrors the SDK's Tracer.startActiveSpan (same overloads, same defaults).
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    a2: SpanOptions | F,
    a3?: Context | F,
    a4?: F,
  ): ReturnType<F> | undefined {
    let options: SpanOptions | undefined;
    let parent: Context | undefined;
    let fn: F;
    if (typeof a2 === 'function') fn = a2;
    else if (typeof a3 === 'function') [options, fn] = [a2, a3];
    else if (typeof a4 === 'function') [options, parent, fn] = [a2, a3, a4];
    else return undefined;
    const ctx = parent ?? contextApi.active();
    const span = this.startSpan(name, options, ctx);
    return contextApi.with(trace.setSpan(ctx, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }
}

/** The provider registered globally in place of the SDK's: same tracers, wrapped; flush and shutdown pass through. */
export class ParentDecidingProvider implements TracerProvider {
  constructor(
    readonly sdk: TracerProvider & { forceFlush(): Promise<void>; shutdown(): Promise<void> },
    private readonly roots: RootDecider,
  ) {}

  getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    return new ParentDecidingTracer(this.sdk.getTracer(name, version, options), this.roots);
  }

  forceFlush(): Promise<void> {
    return this.sdk.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.sdk.shutdown();
  }
}
