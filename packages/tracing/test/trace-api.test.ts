import { context, SpanKind, trace as otelTrace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { currentSpan, setAttributes, startTracing, trace, Traced, TracingStateError, type Tracing } from '../src';
import { sleep, startMemory } from './helpers';

describe('trace() and @Traced()', () => {
  let tracing: Tracing;
  beforeEach(() => {
    tracing = startMemory();
  });
  afterEach(() => tracing.close());

  const spansOf = (traceId: string) => tracing.store!.getTrace(traceId)!.spans;

  it('wraps a sync function: returns its value, ends the span, nests children', () => {
    let traceId = '';
    const value = trace('outer', (span) => {
      traceId = span.spanContext().traceId;
      return trace('inner', () => 42, { attributes: { k: 'v' }, kind: SpanKind.CLIENT });
    });
    expect(value).toBe(42);
    const spans = spansOf(traceId);
    const outer = spans.find((s) => s.name === 'outer')!;
    const inner = spans.find((s) => s.name === 'inner')!;
    expect(inner.parentSpanId).toBe(outer.spanId);
    expect(inner.attributes.k).toBe('v');
    expect(inner.kind).toBe('CLIENT');
    expect(outer.status.code).toBe('UNSET');
  });

  it('ends an async span when the promise settles and keeps context across awaits', async () => {
    let traceId = '';
    const started = Date.now();
    const result = await trace('async-outer', async (span) => {
      traceId = span.spanContext().traceId;
      await sleep(20);
      return trace('after-await', async () => 'ok');
    });
    expect(result).toBe('ok');
    const spans = spansOf(traceId);
    const outer = spans.find((s) => s.name === 'async-outer')!;
    expect(outer.durationMs).toBeGreaterThanOrEqual(15);
    expect(outer.endTime).toBeLessThanOrEqual(Date.now() + 1);
    expect(outer.startTime).toBeGreaterThanOrEqual(started - 1);
    expect(spans.find((s) => s.name === 'after-await')!.parentSpanId).toBe(outer.spanId);
  });

  it('records a throw (sync) and a rejection (async) with ERROR status and error.type, and rethrows', async () => {
    class BoomError extends Error {
      code = 'E_BOOM';
    }
    let id1 = '';
    expect(() =>
      trace('sync-fail', (s) => {
        id1 = s.spanContext().traceId;
        throw new BoomError('sync boom');
      }),
    ).toThrow('sync boom');
    let id2 = '';
    await expect(
      trace('async-fail', async (s) => {
        id2 = s.spanContext().traceId;
        await sleep(1);
        throw new TypeError('async boom');
      }),
    ).rejects.toThrow('async boom');
    const s1 = spansOf(id1)[0];
    expect(s1.status).toEqual({ code: 'ERROR', message: 'sync boom' });
    expect(s1.attributes['error.type']).toBe('E_BOOM');
    expect(s1.events[0].name).toBe('exception');
    expect(s1.events[0].attributes['exception.message']).toBe('sync boom');
    const s2 = spansOf(id2)[0];
    expect(s2.status.code).toBe('ERROR');
    expect(s2.attributes['error.type']).toBe('TypeError');
    expect(
      tracing
        .store!.recentTraces({ errorsOnly: true })
        .map((t) => t.traceId)
        .sort(),
    ).toEqual([id1, id2].sort());
  });

  it('records thrown non-Error values, even ones JSON cannot serialize', () => {
    let id = '';
    expect(() =>
      trace('bigint', (s) => {
        id = s.spanContext().traceId;
        throw 10n;
      }),
    ).toThrow();
    expect(spansOf(id)[0].status).toEqual({ code: 'ERROR', message: '10' });
    let id2 = '';
    expect(() =>
      trace('object', (s) => {
        id2 = s.spanContext().traceId;
        throw { reason: 'nope' };
      }),
    ).toThrow();
    expect(spansOf(id2)[0].status.message).toBe('{"reason":"nope"}');
  });

  it('preserves `this` for trace.call and for @Traced methods', async () => {
    const obj = {
      n: 7,
      run() {
        return trace.call(this, 'with-this', function (this: unknown) {
          return (this as { n: number }).n;
        });
      },
    };
    expect(obj.run()).toBe(7);

    class Planner {
      factor = 3;
      @Traced()
      plan(x: number): number {
        return x * this.factor;
      }
      @Traced('custom name')
      async later(x: number): Promise<number> {
        await sleep(1);
        return x + this.factor;
      }
    }
    const p = new Planner();
    let traceId = '';
    await trace('root', async (s) => {
      traceId = s.spanContext().traceId;
      expect(p.plan(2)).toBe(6);
      expect(await p.later(2)).toBe(5);
    });
    expect(
      spansOf(traceId)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['Planner.plan', 'custom name', 'root']);
  });

  it('currentSpan() and setAttributes() act on the active span and are no-ops outside', () => {
    expect(currentSpan()).toBeUndefined();
    expect(() => setAttributes({ a: 1 })).not.toThrow();
    let traceId = '';
    trace('attrs', () => {
      traceId = currentSpan()!.spanContext().traceId;
      setAttributes({ 'agent.step': 3 });
    });
    expect(spansOf(traceId)[0].attributes['agent.step']).toBe(3);
  });

  it('refuses to start over another context manager, leaving no provider registered', async () => {
    await tracing.close();
    const foreign = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(foreign);
    try {
      expect(() => startMemory()).toThrow(/context manager is already registered/);
      expect(otelTrace.getTracerProvider().getTracer('x').startSpan('y').isRecording()).toBe(false);
    } finally {
      context.disable();
      foreign.disable();
    }
    tracing = startMemory();
  });

  it('a span ending after shutdown goes nowhere and does not throw', async () => {
    const span = tracing.tracer.startSpan('in flight');
    await tracing.close();
    expect(() => span.end()).not.toThrow();
    expect(tracing.store!.size).toBe(0);
  });

  it('refuses a second start while running, and can start again after shutdown', async () => {
    expect(() => startTracing({ exporter: 'memory', env: {} })).toThrow(TracingStateError);
    await tracing.close();
    await tracing.close(); // idempotent
    expect(otelTrace.getActiveSpan()).toBeUndefined();
    tracing = startMemory();
    const id = trace('again', (s) => s.spanContext().traceId);
    expect(tracing.store!.getTrace(id)).toBeDefined();
    // the context manager was re-registered: context flows into callbacks
    let expected = '';
    const seen = await trace('ctx', (s) => {
      expected = s.spanContext().traceId;
      return new Promise<string | undefined>((r) => setTimeout(() => r(currentSpan()?.spanContext().traceId), 1));
    });
    expect(seen).toBe(expected);
  });
});
