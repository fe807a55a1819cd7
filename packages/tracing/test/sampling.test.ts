import {
  context,
  ROOT_CONTEXT,
  trace as otelTrace,
  TraceFlags,
  createTraceState,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { AlwaysOnSampler, BasicTracerProvider, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import { createMetrics } from '@periscope/metrics';
import { inject, SpanStatusCode, trace, Traced, TokenBucket, type Tracing } from '../src';
import { sleep, startMemory } from './helpers';

const remoteParent = (sampled: boolean) =>
  otelTrace.setSpanContext(ROOT_CONTEXT, {
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });

/** Every stored span's parent is either absent, remote, or stored too: nothing orphaned. */
function expectNoOrphans(tracing: Tracing): void {
  for (const { traceId } of tracing.store!.recentTraces({ limit: 10_000 })) {
    const spans = tracing.store!.getTrace(traceId)!.spans;
    const ids = new Set(spans.map((s) => s.spanId));
    for (const s of spans)
      if (s.parentSpanId && s.parentSpanId !== 'b'.repeat(16)) expect(ids.has(s.parentSpanId)).toBe(true);
  }
}

describe('head sampling', () => {
  let tracing: Tracing;
  afterEach(() => tracing.close());

  it('never records probe routes by default, and drop rules take the subtree with them', () => {
    tracing = startMemory({ dropRules: [{ name: /^cache\./ }, { attributes: { 'url.path': '/livez' } }] });
    trace('GET /livez', () => trace('inside-probe', () => undefined), { attributes: { 'url.path': '/livez' } });
    const kept = trace('work', (s) => {
      trace('cache.get', () => trace('under-cache', () => undefined));
      trace('db', () => undefined);
      return s.spanContext().traceId;
    });
    expect(tracing.store!.size).toBe(1);
    expect(
      tracing
        .store!.getTrace(kept)!
        .spans.map((s) => s.name)
        .sort(),
    ).toEqual(['db', 'work']);
  });

  it('under a parent-based sampler, a child of an unsampled parent gets the context the SDK would give it, without the SDK', () => {
    tracing = startMemory({ sampler: 'parentbased_traceidratio', samplerRatio: 1 });
    const traceState = createTraceState('vendor=1');
    const unsampled = otelTrace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'c'.repeat(32),
      spanId: 'd'.repeat(16),
      traceFlags: TraceFlags.NONE,
      traceState,
      isRemote: true,
    });
    // The SDK's own answer, from a provider of its own (the tracers startTracing() hands out take the shortcut too).
    const sdkChild = new BasicTracerProvider({ sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }) })
      .getTracer('reference')
      .startSpan('work', {}, unsampled)
      .spanContext();
    const ours = context.with(unsampled, () =>
      trace('work', (s) => ({ span: s, inner: trace('inner', (c) => c.spanContext()) })),
    );
    expect(ours.span.isRecording()).toBe(false);
    expect(ours.span.spanContext()).toEqual({ ...sdkChild, spanId: ours.span.spanContext().spanId });
    expect(ours.span.spanContext()).toMatchObject({ traceId: 'c'.repeat(32), traceFlags: TraceFlags.NONE, traceState });
    expect(ours.span.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(ours.span.spanContext().spanId).not.toBe('d'.repeat(16));
    expect(ours.inner).toMatchObject({ traceId: 'c'.repeat(32), traceFlags: TraceFlags.NONE });
    // A sampled parent, a root, and root: true under the unsampled parent are still the sampler's (ratio 1: kept).
    const sampled = otelTrace.setSpanContext(unsampled, {
      ...otelTrace.getSpanContext(unsampled)!,
      traceFlags: TraceFlags.SAMPLED,
    });
    expect(context.with(sampled, () => trace('kept', (s) => s.isRecording()))).toBe(true);
    expect(trace('root', (s) => s.isRecording())).toBe(true);
    expect(context.with(unsampled, () => trace('new root', (s) => s.isRecording(), { root: true }))).toBe(true);
  });

  it('with always_on (not parent-based) the parent does not decide: a child of an unsampled parent is recorded', () => {
    tracing = startMemory({ sampler: 'always_on' });
    const unsampled = otelTrace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'e'.repeat(32),
      spanId: 'f'.repeat(16),
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    expect(context.with(unsampled, () => trace('work', (s) => s.isRecording()))).toBe(true);
  });

  it('a span trace() drops by rule has the context the SDK would give it, and its children stay unsampled', () => {
    tracing = startMemory({ dropRules: [{ name: 'probe' }, { attributes: { 'url.path': '/livez' } }] });
    const sdkDropped = (ctx: Context) => tracing.tracer.startSpan('probe', {}, ctx);
    const traceState = createTraceState('vendor=1');
    const parent = otelTrace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      traceFlags: TraceFlags.SAMPLED,
      traceState,
      isRemote: true,
    });

    const seen = context.with(parent, () =>
      trace('probe', (s) => {
        const child = trace('work-under-probe', (c) => c);
        return { span: s, current: otelTrace.getActiveSpan(), child, headers: inject<Record<string, string>>({}) };
      }),
    );
    const expected = sdkDropped(parent).spanContext();
    expect(seen.span.isRecording()).toBe(false);
    expect(seen.current).toBe(seen.span);
    expect(seen.span.spanContext()).toEqual({ ...expected, spanId: seen.span.spanContext().spanId });
    expect(seen.span.spanContext()).toMatchObject({ traceId: 'a'.repeat(32), traceFlags: TraceFlags.NONE, traceState });
    expect(seen.span.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(seen.span.spanContext().spanId).not.toBe('b'.repeat(16));
    expect(seen.child.isRecording()).toBe(false);
    expect(seen.child.spanContext().traceId).toBe('a'.repeat(32));
    expect(seen.headers.traceparent).toBe(`00-${'a'.repeat(32)}-${seen.span.spanContext().spanId}-00`);

    // A root: a new valid trace id per span; root: true under a parent also starts a new trace.
    const roots = [
      trace('probe', (s) => s.spanContext()),
      trace('probe', (s) => s.spanContext()),
      context.with(parent, () => trace('probe', (s) => s.spanContext(), { root: true })),
    ];
    for (const r of roots) {
      expect(r.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(otelTrace.isSpanContextValid(r)).toBe(true);
      expect(r).toMatchObject({ traceFlags: TraceFlags.NONE, traceState: undefined });
    }
    expect(new Set(roots.map((r) => r.traceId)).size).toBe(3);
    // Attribute rules, and suppressed tracing (the SDK's invalid context), through trace() and @Traced() alike.
    expect(trace('GET /livez', (s) => s.isRecording(), { attributes: { 'url.path': '/livez' } })).toBe(false);
    const suppressed = suppressTracing(ROOT_CONTEXT);
    expect(context.with(suppressed, () => trace('probe', (s) => s.spanContext()))).toEqual(
      sdkDropped(suppressed).spanContext(),
    );
    class Probe {
      @Traced('probe')
      run(): Span | undefined {
        return otelTrace.getActiveSpan();
      }
    }
    const fromDecorator = new Probe().run()!;
    expect(fromDecorator.isRecording()).toBe(false);
    expect(otelTrace.isSpanContextValid(fromDecorator.spanContext())).toBe(true);
    expect(tracing.store!.size).toBe(0);
  });

  it('default rules drop /livez /readyz /metrics by url.path or http.route', async () => {
    await (tracing = startMemory()).close();
    tracing = startMemory();
    for (const p of ['/livez', '/readyz', '/metrics', '/healthz'])
      trace(`GET ${p}`, () => undefined, { attributes: { 'url.path': p } });
    trace('GET /metrics', () => undefined, { attributes: { 'http.route': '/metrics' } });
    trace('GET /tasks', () => undefined, { attributes: { 'url.path': '/tasks' } });
    expect(tracing.store!.recentTraces().map((t) => t.rootName)).toEqual(['GET /tasks']);
  });

  it('ratio and parent-based samplers, from options and from OTEL_TRACES_SAMPLER/_ARG', async () => {
    tracing = startMemory({ sampler: 'parentbased_traceidratio', samplerRatio: 0 });
    trace('root-dropped', () => undefined);
    context.with(remoteParent(true), () => trace('child-of-sampled-remote', () => undefined));
    context.with(remoteParent(false), () => trace('child-of-unsampled-remote', () => undefined));
    expect(tracing.store!.recentTraces().map((t) => t.rootName)).toEqual(['child-of-sampled-remote']);
    await tracing.close();

    tracing = startMemory({ env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' } });
    for (let i = 0; i < 400; i++) trace(`r${i}`, () => undefined);
    const kept = tracing.store!.size;
    expect(kept).toBeGreaterThan(140);
    expect(kept).toBeLessThan(260);
    await tracing.close();

    tracing = startMemory({ env: { OTEL_TRACES_SAMPLER: 'always_off' } });
    trace('off', () => undefined);
    expect(tracing.store!.size).toBe(0);
  });

  it('maxSpansPerSecond: a token bucket keeps the rate within tolerance, counts drops, and orphans nothing', async () => {
    const metrics = createMetrics();
    const rate = 50;
    tracing = startMemory({ maxSpansPerSecond: rate, metrics, spanMetrics: false, store: { maxTraces: 10_000 } });
    const started = performance.now();
    let attempted = 0;
    // At least 500 ms, and at least four times the spans the bucket can grant meanwhile: on a
    // loaded machine the loop is slow, and a slow loop must not read as a bucket that lets all through.
    const seconds = () => (performance.now() - started) / 1000;
    while (seconds() < 0.5 || (attempted < 4 * (rate + rate * seconds()) && seconds() < 10)) {
      trace('root', () => {
        trace('child', () => trace('grandchild', () => undefined));
      });
      attempted += 3;
      if (attempted % 30 === 0) await sleep(1);
    }
    const elapsed = (performance.now() - started) / 1000;
    let recorded = 0;
    for (const t of tracing.store!.recentTraces({ limit: 10_000 })) recorded += t.spanCount;
    // Burst of one second's tokens, then the rate.
    const expected = rate + rate * elapsed;
    // Never more than the bucket grants; less only where a stalled loop let a full bucket's refill go
    // unused (a loaded machine), so the lower bound is loose: it catches a bucket that drops everything.
    expect(recorded).toBeGreaterThan(expected * 0.5);
    expect(recorded).toBeLessThan(expected * 1.15);
    expect(attempted).toBeGreaterThan(recorded * 2);
    expectNoOrphans(tracing);
    const body = (await metrics.expose()).body;
    const dropped = Number(/periscope_tracing_dropped_spans_total\{reason="rate_limit"\} (\d+)/.exec(body)?.[1]);
    expect(dropped).toBeGreaterThan(0);
  });

  it('TokenBucket refills continuously up to one second of tokens', () => {
    let now = 0;
    const b = new TokenBucket(10, () => now);
    let taken = 0;
    while (b.take()) taken++;
    expect(taken).toBe(10);
    now = 250;
    expect([b.take(), b.take(), b.take()]).toEqual([true, true, false]);
    now = 10_000;
    taken = 0;
    while (b.take()) taken++;
    expect(taken).toBe(10);
  });

  it('minDurationMs drops short leaves but keeps parents of kept or dropped children, roots and errors', async () => {
    const metrics = createMetrics();
    tracing = startMemory({ minDurationMs: 15, metrics, spanMetrics: false });
    const id = await trace('root', async (s) => {
      trace('short-leaf', () => undefined);
      await trace('slow-leaf', () => sleep(25));
      trace('short-parent', () => trace('short-child', () => undefined));
      try {
        trace('short-error', () => {
          throw new Error('x');
        });
      } catch {
        /* recorded */
      }
      return s.spanContext().traceId;
    });
    trace('fast-root', () => undefined);
    expect(
      tracing
        .store!.getTrace(id)!
        .spans.map((s) => s.name)
        .sort(),
    ).toEqual(['root', 'short-error', 'short-parent', 'slow-leaf']);
    expect(tracing.store!.recentTraces().map((t) => t.rootName)).toContain('fast-root');
    expectNoOrphans(tracing);
    expect((await metrics.expose()).body).toMatch(/periscope_tracing_dropped_spans_total\{reason="min_duration"\} 2/);
  });
});

describe('tail sampling', () => {
  let tracing: Tracing;
  afterEach(() => tracing.close());

  // slowerThanMs well above what a synchronous trace takes on a loaded machine (a 'fast' trace
  // must not read as slow because the process was preempted), and well below slow-ok's sleep.
  const tail = { slowerThanMs: 250, graceMs: 30, ratio: 0 };

  it('keeps error and slow traces, drops the rest, including children that end after their root', async () => {
    const metrics = createMetrics();
    tracing = startMemory({ tailSampling: tail, metrics, spanMetrics: false });
    const late: Promise<unknown>[] = [];
    const okId = trace('fast-ok', (s) => {
      // ends 10 ms after its root: still inside the grace period
      late.push(trace('late-child-of-dropped', () => sleep(10)));
      return s.spanContext().traceId;
    });
    const errId = trace('fast-error', (s) => {
      late.push(trace('late-child-of-kept', () => sleep(10)));
      late.push(trace('very-late-child-of-kept', () => sleep(60))); // after the decision
      trace('failing', (f) => f.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' }));
      return s.spanContext().traceId;
    });
    expect(tracing.store!.size).toBe(0); // nothing leaves before the decision
    expect(tracing.tailBuffer.traces).toBe(2);
    const slowId = await trace('slow-ok', async (s) => {
      await sleep(400);
      return s.spanContext().traceId;
    });
    await Promise.allSettled(late);
    await sleep(tail.graceMs + 30);

    expect(tracing.store!.getTrace(okId)).toBeUndefined();
    expect(tracing.store!.getTrace(slowId)!.spans.map((s) => s.name)).toEqual(['slow-ok']);
    expect(tracing.store!.recentTraces({ errorsOnly: true }).map((t) => t.traceId)).toEqual([errId]);
    expect(
      tracing
        .store!.getTrace(errId)!
        .spans.map((s) => s.name)
        .sort(),
    ).toEqual(['failing', 'fast-error', 'late-child-of-kept', 'very-late-child-of-kept']);
    expect(tracing.tailBuffer).toEqual({ traces: 0, spans: 0 });
    expect((await metrics.expose()).body).toMatch(/periscope_tracing_dropped_spans_total\{reason="tail_sampled"\} 2/);
  });

  it('decides at once when the root ends with no span of its trace still open', async () => {
    tracing = startMemory({ tailSampling: { ...tail, graceMs: 60_000 } });
    const id = trace('root', (s) => {
      trace('child', (c) => c.setStatus({ code: SpanStatusCode.ERROR }));
      return s.spanContext().traceId;
    });
    expect(
      tracing
        .store!.getTrace(id)!
        .spans.map((s) => s.name)
        .sort(),
    ).toEqual(['child', 'root']);
    expect(tracing.tailBuffer).toEqual({ traces: 0, spans: 0 });
  });

  it('keeps fast traces by the base ratio', async () => {
    tracing = startMemory({ tailSampling: { ...tail, ratio: 1 } });
    const id = trace('fast', (s) => s.spanContext().traceId);
    expect(tracing.store!.getTrace(id)).toBeDefined();
    await tracing.close();
    tracing = startMemory({ tailSampling: { ...tail, ratio: 0.5 }, store: { maxTraces: 1000 } });
    for (let i = 0; i < 400; i++) trace('fast', () => undefined);
    expect(tracing.store!.size).toBeGreaterThan(140);
    expect(tracing.store!.size).toBeLessThan(260);
  });

  it('is bounded: overflow is dropped and counted, never blocks', async () => {
    const metrics = createMetrics();
    tracing = startMemory({ tailSampling: { ...tail, maxTraces: 2, maxSpans: 5 }, metrics, spanMetrics: false });
    // Three traces whose roots stay open while their children end.
    const roots = [1, 2, 3].map((i) => tracing.tracer.startSpan(`root-${i}`));
    for (const root of roots) {
      context.with(otelTrace.setSpan(context.active(), root), () => {
        for (let j = 0; j < 3; j++) trace(`child-${j}`, (c) => c.setStatus({ code: SpanStatusCode.ERROR }));
      });
    }
    expect(tracing.tailBuffer.traces).toBe(2);
    expect(tracing.tailBuffer.spans).toBe(5);
    const body = (await metrics.expose()).body;
    // trace 3 has no room (3 spans), trace 2 got 2 of its 3 spans
    expect(body).toMatch(/periscope_tracing_dropped_spans_total\{reason="tail_buffer_full"\} 4/);
    roots.forEach((r) => r.end());
    // the roots of buffered traces still get in past maxSpans (they carry the decision); root-3's children found no trace slot
    expect(tracing.tailBuffer).toEqual({ traces: 0, spans: 0 });
    expect((await metrics.expose()).body).toMatch(
      /periscope_tracing_dropped_spans_total\{reason="tail_buffer_full"\} 4/,
    );
    expect(
      tracing
        .store!.recentTraces()
        .map((t) => t.rootName)
        .sort(),
    ).toEqual(['root-1', 'root-2']);
    expect(tracing.store!.getTrace(roots[1].spanContext().traceId)!.spanCount).toBe(3);
  });

  it('decides a trace whose root never ends after traceTimeoutMs (to twice that)', async () => {
    tracing = startMemory({ tailSampling: { ...tail, traceTimeoutMs: 30 } });
    const leaked = tracing.tracer.startSpan('leaked root');
    context.with(otelTrace.setSpan(context.active(), leaked), () =>
      trace('child', (c) => c.setStatus({ code: SpanStatusCode.ERROR })),
    );
    expect(tracing.tailBuffer.traces).toBe(1);
    const started = performance.now();
    for (let i = 0; i < 200 && tracing.tailBuffer.traces > 0; i++) await sleep(5);
    expect(tracing.tailBuffer.traces).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(tracing.store!.getTrace(leaked.spanContext().traceId)!.spans.map((s) => s.name)).toEqual(['child']);
  });

  it('forceFlush decides ended traces at once; shutdown decides open ones', async () => {
    tracing = startMemory({ tailSampling: { ...tail, graceMs: 60_000 } });
    const id = trace('ended-error', (s) => {
      s.setStatus({ code: 2 });
      return s.spanContext().traceId;
    });
    const open = tracing.tracer.startSpan('still-open');
    context.with(otelTrace.setSpan(context.active(), open), () =>
      trace('child-error', (s) => s.setStatus({ code: 2 })),
    );
    await tracing.forceFlush();
    expect(tracing.store!.getTrace(id)).toBeDefined();
    expect(tracing.tailBuffer.spans).toBe(1);
    const openId = open.spanContext().traceId;
    await tracing.close();
    expect(tracing.store!.getTrace(openId)!.spans.map((s) => s.name)).toEqual(['child-error']);
  });
});
