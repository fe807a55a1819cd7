// The tracers the global API hands out while startTracing() runs a parent-based sampler answer
// children of unsampled parents without the SDK. What a user relies on: those children look
// exactly as the SDK would have made them (same trace, flags, trace state; a fresh span id), they
// are active inside startActiveSpan, nothing of them is stored or exported, and every other span
// (sampled parent, root, root: true, suppressed tracing) is still the SDK's.
import {
  createTraceState,
  ROOT_CONTEXT,
  trace as otelTrace,
  TraceFlags,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { inject, trace, type Tracing } from '../src';
import { newSpanId } from '../src/unsampled-children';
import { startMemory } from './helpers';

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.close();
  tracing = undefined;
});

/** The SDK alone, with the sampler parentbased_always_on builds: the reference the shortcut must match. */
const sdkTracer = new BasicTracerProvider({
  sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
}).getTracer('reference');

const withParent = (sc: SpanContext, base: Context = ROOT_CONTEXT) => otelTrace.setSpanContext(base, sc);

/** What of a span's context must be equal to the SDK's: all but the span id, which is new for every span. */
function shape(span: Span) {
  const { spanId, ...rest } = span.spanContext();
  return { recording: span.isRecording(), spanIdValid: /^(?!0{16})[0-9a-f]{16}$/.test(spanId), ...rest };
}

describe('children of unsampled parents (tracers from the global API)', () => {
  it('match what the SDK builds for any parent context, root option and suppression', () => {
    tracing = startMemory({ sampler: 'parentbased_always_on' });
    const ours = otelTrace.getTracer('like-the-cache');
    const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
    const parent = fc.record({
      traceId: fc.oneof(hex(32), fc.constant('0'.repeat(32)), fc.string({ maxLength: 33 })),
      spanId: fc.oneof(hex(16), fc.constant('0'.repeat(16))),
      traceFlags: fc.integer({ min: 0, max: 255 }),
      isRemote: fc.boolean(),
      traceState: fc.option(fc.constantFrom('vendor=1', 'a=b,c=d'), { nil: undefined }),
    });
    fc.assert(
      fc.property(parent, fc.boolean(), fc.boolean(), (p, root, suppressed) => {
        const sc: SpanContext = { ...p, traceState: p.traceState ? createTraceState(p.traceState) : undefined };
        const ctx = suppressed ? suppressTracing(withParent(sc)) : withParent(sc);
        const mine = ours.startSpan('work', { root, attributes: { 'db.system': 'redis' } }, ctx);
        const theirs = sdkTracer.startSpan('work', { root, attributes: { 'db.system': 'redis' } }, ctx);
        const [a, b] = [shape(mine), shape(theirs)];
        mine.end();
        theirs.end();
        // A new root gets a new random trace id from either: compare that it is valid, not equal.
        if (root || !otelTrace.isSpanContextValid(sc) || (sc.traceFlags & TraceFlags.SAMPLED) !== 0) {
          expect({ ...a, traceId: a.traceId.length }).toEqual({ ...b, traceId: b.traceId.length });
        } else {
          expect(a).toEqual(b);
          expect(a.recording).toBe(false);
          expect(mine.spanContext().spanId).not.toBe(sc.spanId);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('are active inside startActiveSpan, keep their trace in nested spans and are never stored', async () => {
    tracing = startMemory({ sampler: 'parentbased_traceidratio', samplerRatio: 0 });
    const ours = otelTrace.getTracer('like-the-pool');
    const seen = trace('task', (root) =>
      ours.startActiveSpan('db.query', { attributes: { 'db.system.name': 'postgresql' } }, (child) => {
        const inner = trace('inner', (s) => s.spanContext());
        child.end();
        return { root: root.spanContext(), child, active: otelTrace.getActiveSpan(), inner };
      }),
    );
    expect(seen.root.traceFlags).toBe(TraceFlags.NONE);
    expect(seen.active).toBe(seen.child);
    expect(seen.child.isRecording()).toBe(false);
    expect(seen.child.spanContext().traceId).toBe(seen.root.traceId);
    expect(seen.child.spanContext().spanId).not.toBe(seen.root.spanId);
    expect(seen.inner).toMatchObject({ traceId: seen.root.traceId, traceFlags: TraceFlags.NONE });
    await tracing.forceFlush();
    expect(tracing.store!.size).toBe(0);
  });

  it('under a sampled parent are the SDK spans, stored with their attributes and parent', async () => {
    tracing = startMemory({ sampler: 'parentbased_always_on' });
    const ours = otelTrace.getTracer('like-the-cache');
    const ids = trace('task', (root) => {
      const child = ours.startSpan('GET', { attributes: { 'db.system': 'redis' } });
      child.end();
      return { root: root.spanContext(), child: child.spanContext() };
    });
    // Two argument forms of startActiveSpan, as instrumentations call it.
    const viaActive = ours.startActiveSpan('l3.read', (s) => {
      s.end();
      return s.spanContext();
    });
    await tracing.forceFlush();
    const spans = tracing.store!.getTrace(ids.root.traceId)!.spans;
    const child = spans.find((s) => s.name === 'GET');
    expect(child).toMatchObject({ spanId: ids.child.spanId, parentSpanId: ids.root.spanId });
    expect(child!.attributes).toMatchObject({ 'db.system': 'redis' });
    expect(viaActive.traceFlags).toBe(TraceFlags.SAMPLED);
    expect(tracing.store!.getTrace(viaActive.traceId)).toBeDefined();
  });

  it('a remote unsampled parent (traceparent …-00) decides too; with always_on (not parent-based) it does not', async () => {
    const remote = withParent({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0, isRemote: true });
    tracing = startMemory({ sampler: 'parentbased_always_on' });
    expect(otelTrace.getTracer('t').startSpan('work', {}, remote).isRecording()).toBe(false);
    await tracing.close();
    tracing = startMemory({ sampler: 'always_on' });
    const span = otelTrace.getTracer('t').startSpan('work', {}, remote);
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceId).toBe('a'.repeat(32));
    span.end();
  });

  it('after close() the global tracers are no-ops again (nothing of ours is left registered)', async () => {
    tracing = startMemory({ sampler: 'parentbased_always_on' });
    await tracing.close();
    tracing = undefined;
    const parent = withParent({ traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 });
    const span = otelTrace.getTracer('t').startSpan('after', {}, parent);
    // The API's no-op tracer: the parent's context passed through, nothing recorded.
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().spanId).toBe('d'.repeat(16));
  });

  it('span ids are 16 lowercase hex digits, never all zeros, and do not repeat', () => {
    const seen = new Set(Array.from({ length: 20_000 }, newSpanId));
    expect([...seen].filter((id) => !/^(?!0{16})[0-9a-f]{16}$/.test(id))).toEqual([]);
    expect(seen.size).toBe(20_000);
    // Every hex digit turns up in every position: the table covers all 256 byte values.
    const digits = Array.from({ length: 16 }, () => new Set<string>());
    for (const id of seen) for (let p = 0; p < 16; p++) digits[p].add(id[p]);
    for (const d of digits) expect(d.size).toBe(16);
  });

  it('roots keep the configured ratio: each decided on its own trace id, recorded ones by the SDK with that id', async () => {
    tracing = startMemory({ sampler: 'parentbased_traceidratio', samplerRatio: 0.3 });
    const ratio = new TraceIdRatioBasedSampler(0.3);
    const ours = otelTrace.getTracer('like-the-pool');
    const roots = Array.from({ length: 2000 }, (_, i) => {
      const span = ours.startSpan('SELECT', i % 2 ? { root: true } : {});
      const traceparent = inject<Record<string, string>>({}, otelTrace.setSpan(ROOT_CONTEXT, span)).traceparent;
      const recording = span.isRecording();
      span.end();
      return { sc: span.spanContext(), recording, traceparent };
    });
    for (const r of roots) {
      const wanted = ratio.shouldSample(ROOT_CONTEXT, r.sc.traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
      expect([r.recording, r.sc.traceFlags & TraceFlags.SAMPLED]).toEqual([wanted, wanted ? 1 : 0]);
      // Our trace ids either way: the W3C random-trace-id flag (0x02) goes out with them.
      expect(r.traceparent).toBe(`00-${r.sc.traceId}-${r.sc.spanId}-0${wanted ? 3 : 2}`);
    }
    const kept = roots.filter((r) => r.recording).length / roots.length;
    expect(kept).toBeGreaterThan(0.2);
    expect(kept).toBeLessThan(0.4);
    expect(new Set(roots.map((r) => r.sc.traceId)).size).toBe(roots.length);
    await tracing.forceFlush();
    // The store keeps the latest traces: the last recorded root is there, no unrecorded one is.
    const last = roots.filter((r) => r.recording).at(-1)!;
    expect(tracing.store!.getTrace(last.sc.traceId)?.spans.map((s) => s.spanId)).toEqual([last.sc.spanId]);
    for (const r of roots.filter((x) => !x.recording)) expect(tracing.store!.getTrace(r.sc.traceId)).toBeUndefined();
  });
});
