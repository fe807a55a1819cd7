// W3C Trace Context (Level 1 and Level 2) for traceparent/tracestate, our default propagator.
// OpenTelemetry JS's own W3CTraceContextPropagator fails the official test suite on tracestate
// validation (the current key grammar with '@', 256-character keys, 33 members, illegal values:
// the spec discards the whole header) and on Level 2's random-trace-id flag, which its tracer
// drops (an incoming -02 leaves as -00). This one passes the suite at STRICT_LEVEL=2,
// SPEC_LEVEL=2 (packages/tracing/test/w3c.test.ts) and never sends an empty tracestate.
import {
  createContextKey,
  isSpanContextValid,
  trace,
  TraceFlags,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  type TraceState,
} from '@opentelemetry/api';
import { RandomIdGenerator, type IdGenerator } from '@opentelemetry/sdk-trace-base';

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

/** Level 2: the trace id's right-most 7 bytes are random. */
export const RANDOM_TRACE_ID_FLAG = 0x02;
const KNOWN_FLAGS = TraceFlags.SAMPLED | RANDOM_TRACE_ID_FLAG;
const MAX_MEMBERS = 32;
const MAX_HEADER = 8192;

const TRACEPARENT_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
// A later version: the version-00 fields first, then '-' and anything, or nothing.
const TRACEPARENT_FUTURE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
// The current key grammar: a lowercase letter or digit, then up to 255 of [a-z0-9_-*/@] (the
// older simple-key / tenant@system split is a subset of it).
const KEY = /^[0-9a-z][_0-9a-z\-*/@]{0,255}$/;
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Trace ids this process generated (random, so the Level 2 flag may be set on them). The SDK
 * gives its span contexts no mark of origin, so the generator records its recent trace ids in a
 * bounded FIFO; a trace older than that simply goes out without the flag (allowed: unknown).
 */
export class OwnTraceIds implements IdGenerator {
  private readonly inner = new RandomIdGenerator();
  private readonly recent = new Set<string>();
  // Insertion order kept in a ring: evicting through the Set's own iterator walks the holes that
  // earlier deletes left, and made every root span cost microseconds once the set was full.
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(private readonly capacity = 8192) {
    this.ring = new Array<string | undefined>(capacity);
  }

  /** Set by reuseNext(): the id the next generateTraceId() returns (already recorded). */
  private preset: string | undefined;

  /** The next generateTraceId() returns `traceId` (one made here and decided on) instead of a new one. */
  reuseNext(traceId: string): void {
    this.preset = traceId;
  }

  generateTraceId(): string {
    const preset = this.preset;
    if (preset !== undefined) {
      this.preset = undefined;
      return preset;
    }
    const id = this.inner.generateTraceId();
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.recent.delete(evicted);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.recent.add(id);
    return id;
  }

  generateSpanId(): string {
    return this.inner.generateSpanId();
  }

  has(traceId: string): boolean {
    return this.recent.has(traceId);
  }
}

/**
 * Where the remote parent's random-trace-id flag is kept: the SDK's tracer rebuilds trace flags
 * from the sampling decision alone, so the flag is carried in the context beside the span.
 */
const REMOTE_RANDOM = createContextKey('periscope.w3c.remote-random-trace-id');

export interface TraceparentFields {
  traceId: string;
  spanId: string;
  flags: number;
}

export function parseTraceparent(header: string): TraceparentFields | undefined {
  const value = header.trim();
  if (value.length > MAX_HEADER) return undefined;
  let m = TRACEPARENT_00.exec(value);
  if (m === null) {
    const f = TRACEPARENT_FUTURE.exec(value);
    if (f === null || f[1] === '00' || f[1] === 'ff') return undefined;
    m = [f[0], f[2], f[3], f[4]] as unknown as RegExpExecArray;
  }
  const [, traceId, spanId, flagsHex] = m;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags: parseInt(flagsHex, 16) };
}

/** A valid list of members, or undefined: one invalid member discards the whole header. */
export function parseTracestate(header: string): [string, string][] | undefined {
  if (header.length > MAX_HEADER) return undefined;
  const members: [string, string][] = [];
  const seen = new Set<string>();
  for (const raw of header.split(',')) {
    const member = raw.trim();
    if (member === '') continue; // empty list members are allowed
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const value = member.slice(eq + 1);
    if (!KEY.test(key) || !VALUE.test(value)) return undefined;
    if (seen.has(key)) continue; // a duplicated key: the spec allows passing one of them on
    seen.add(key);
    members.push([key, value]);
    if (members.length > MAX_MEMBERS) return undefined;
  }
  return members;
}

/** An immutable TraceState over a validated member list (most recent first). */
export class W3CTraceState implements TraceState {
  constructor(private readonly members: readonly [string, string][] = []) {}

  get(key: string): string | undefined {
    return this.members.find(([k]) => k === key)?.[1];
  }

  set(key: string, value: string): TraceState {
    if (!KEY.test(key) || !VALUE.test(value)) return this;
    const rest = this.members.filter(([k]) => k !== key);
    return new W3CTraceState([[key, value] as [string, string], ...rest].slice(0, MAX_MEMBERS));
  }

  unset(key: string): TraceState {
    return new W3CTraceState(this.members.filter(([k]) => k !== key));
  }

  serialize(): string {
    return this.members.map(([k, v]) => `${k}=${v}`).join(',');
  }
}

function headerValue(getter: TextMapGetter<unknown>, carrier: unknown, name: string): string | undefined {
  const v = getter.get(carrier, name);
  if (Array.isArray(v)) return v.length === 1 ? v[0] : v.length > 1 ? v.join(',') : undefined;
  return v;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export class TraceContextPropagator implements TextMapPropagator {
  /** `ownTraceIds`: the provider's id generator, to mark our own (random) trace ids on the way out. */
  constructor(private readonly ownTraceIds?: { has(traceId: string): boolean }) {}

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter<unknown>): void {
    const sc: SpanContext | undefined = trace.getSpanContext(ctx);
    if (!sc || !isSpanContextValid(sc)) return;
    // A remote parent's flag is kept as it came; our own trace ids are random; otherwise unknown (unset).
    const remote = ctx.getValue(REMOTE_RANDOM) as { traceId: string; random: boolean } | undefined;
    const random =
      remote !== undefined && remote.traceId === sc.traceId
        ? remote.random
        : (this.ownTraceIds?.has(sc.traceId) ?? false);
    const flags =
      (sc.traceFlags & TraceFlags.SAMPLED) |
      (random || sc.traceFlags & RANDOM_TRACE_ID_FLAG ? RANDOM_TRACE_ID_FLAG : 0);
    setter.set(carrier, TRACEPARENT, `00-${sc.traceId}-${sc.spanId}-${hex2(flags)}`);
    const state = sc.traceState?.serialize();
    if (state) setter.set(carrier, TRACESTATE, state);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter<unknown>): Context {
    const header = headerValue(getter, carrier, TRACEPARENT);
    if (header === undefined || header.includes(',')) return ctx;
    const parsed = parseTraceparent(header);
    if (parsed === undefined) return ctx;
    const stateHeader = headerValue(getter, carrier, TRACESTATE);
    const members = stateHeader === undefined ? undefined : parseTracestate(stateHeader);
    const spanContext: SpanContext = {
      traceId: parsed.traceId,
      spanId: parsed.spanId,
      isRemote: true,
      traceFlags: parsed.flags & KNOWN_FLAGS,
      ...(members && members.length > 0 ? { traceState: new W3CTraceState(members) } : {}),
    };
    const withSpan = trace.setSpanContext(ctx, spanContext);
    return withSpan.setValue(REMOTE_RANDOM, {
      traceId: parsed.traceId,
      random: (parsed.flags & RANDOM_TRACE_ID_FLAG) !== 0,
    });
  }

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  }
}
