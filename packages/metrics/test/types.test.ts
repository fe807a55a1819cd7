// Label names are checked at compile time: `npx tsc -p packages/metrics/tsconfig.json` fails if
// any `@ts-expect-error` below stops being an error. The runtime half checks that untyped (JS or
// cast) callers get the typed errors instead.
import { createMetrics, MissingLabelError, UnknownLabelError } from '../src';

const m = createMetrics();
const requests = m.counter({
  name: 'types_requests_total',
  help: 'requests',
  labelNames: ['route', 'status'] as const,
});
const inflight = m.gauge({ name: 'types_inflight', help: 'in flight', labelNames: ['pool'] as const });
const latency = m.histogram({ name: 'types_latency_seconds', help: 'latency', labelNames: ['route'] as const });
const plain = m.counter({ name: 'types_plain_total', help: 'no labels' });

function compileTimeChecks(): void {
  requests.inc({ route: '/x', status: 200 });
  requests.labels({ route: '/x', status: '200' }).inc(2);
  // @ts-expect-error missing label "status"
  requests.inc({ route: '/x' });
  // @ts-expect-error unknown label "method"
  requests.inc({ route: '/x', status: '200', method: 'GET' });
  // @ts-expect-error missing label in a bound handle
  requests.labels({ status: '200' });
  // @ts-expect-error unknown label on a gauge
  inflight.set({ pool: 'a', cache: 'b' }, 1);
  // @ts-expect-error label values are strings or numbers
  latency.observe({ route: true }, 1);
  // @ts-expect-error unknown label in a timer's extra labels
  latency.startTimer({ route: '/x' })({ status: '200' });
  plain.inc();
  // @ts-expect-error a metric without labels takes no label object keys
  plain.inc({ route: '/x' });
}

describe('label names', () => {
  test('the compile-time checks above type-check (and would throw at runtime)', () => {
    expect(compileTimeChecks).toThrow(MissingLabelError);
  });

  test('untyped callers get MissingLabelError / UnknownLabelError naming the metric and label', () => {
    const untyped = requests as unknown as { inc(labels: Record<string, string>): void };
    expect(() => untyped.inc({ route: '/x' })).toThrow(new MissingLabelError('types_requests_total', 'status'));
    expect(() => untyped.inc({ route: '/x', status: '1', method: 'GET' })).toThrow(UnknownLabelError);
    expect(() => untyped.inc({ route: '/x', status: '1', method: 'GET' })).toThrow(
      /types_requests_total: unknown label "method"/,
    );
  });
});
