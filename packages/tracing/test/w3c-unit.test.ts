// Our W3C propagator beyond the official suite: the random-trace-id flag survives our samplers
// and drop rules, tracestate is never sent empty, and no header value can make it throw.
import { context, trace } from '@opentelemetry/api';
import fc from 'fast-check';
import { extract, inject, parseTraceparent, parseTracestate, startTracing, type Tracing } from '../src';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

let tracing: Tracing;
afterEach(() => tracing?.close());

function outgoing(incoming: Record<string, string>, spanName = 'work'): Record<string, string> {
  const parent = extract(incoming);
  const span = trace.getTracer('t').startSpan(spanName, {}, parent);
  const headers: Record<string, string> = {};
  context.with(trace.setSpan(parent, span), () => inject(headers));
  span.end();
  return headers;
}

describe('random-trace-id flag (Level 2)', () => {
  test.each([
    ['sampled + random', '03', '03'],
    ['random only (our sampler keeps the parent decision)', '02', '02'],
    ['sampled, not random', '01', '01'],
  ])('%s: incoming -%s leaves as -%s', (_name, inFlags, outFlags) => {
    tracing = startTracing({ exporter: 'memory' });
    const headers = outgoing({ traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-${inFlags}` });
    expect(headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-${outFlags}$`));
  });

  test('kept through a drop rule and the rate limiter', () => {
    tracing = startTracing({ exporter: 'memory', maxSpansPerSecond: 0, dropRules: [{ name: 'dropped' }] });
    const headers = outgoing({ traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-03` }, 'dropped');
    expect(headers.traceparent).toMatch(/-0[23]$/);
    expect(headers.traceparent.slice(3, 35)).toBe(TRACE_ID);
  });

  test('our own root traces are marked random', () => {
    tracing = startTracing({ exporter: 'memory' });
    const headers = outgoing({});
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/);
  });
});

describe('tracestate', () => {
  test('is never sent empty, and passes valid members on', () => {
    tracing = startTracing({ exporter: 'memory' });
    expect(outgoing({ traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`, tracestate: ' , ' })).not.toHaveProperty(
      'tracestate',
    );
    expect(outgoing({ traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`, tracestate: 'a=1, b@c=2' }).tracestate).toBe(
      'a=1,b@c=2',
    );
  });

  test('one illegal member discards the whole header; 33 members too', () => {
    expect(parseTracestate('a=1,B=2')).toBeUndefined();
    expect(parseTracestate('a=1,b=x=y')).toBeUndefined();
    expect(parseTracestate(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','))).toBeUndefined();
    expect(parseTracestate(Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(','))).toHaveLength(32);
  });
});

describe('hostile headers (property-based)', () => {
  test('no string makes the parsers throw; what parses is well-formed', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const p = parseTraceparent(s);
        if (p) {
          expect(p.traceId).toMatch(/^[0-9a-f]{32}$/);
          expect(p.traceId).not.toMatch(/^0+$/);
          expect(p.spanId).toMatch(/^[0-9a-f]{16}$/);
        }
        const members = parseTracestate(s);
        if (members) expect(members.length).toBeLessThanOrEqual(32);
      }),
      { numRuns: 2000 },
    );
  });

  test('extract then inject keeps the trace id of any valid traceparent', () => {
    tracing = startTracing({ exporter: 'memory' });
    const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((h) => !/^0+$/.test(h));
    fc.assert(
      fc.property(hex(32), hex(16), fc.integer({ min: 0, max: 255 }), (traceId, spanId, flags) => {
        const headers = outgoing({ traceparent: `00-${traceId}-${spanId}-${flags.toString(16).padStart(2, '0')}` });
        expect(headers.traceparent.slice(3, 35)).toBe(traceId);
        expect(headers.traceparent.slice(36, 52)).not.toBe(spanId);
      }),
      { numRuns: 300 },
    );
  });
});
