// An SDK started after the metrics were created: exemplars start with the next exposition
// (or the next new series), without recreating anything.
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createMetrics } from '../src';

afterAll(() => {
  context.disable();
});

test('exemplars begin after a context manager is registered later', async () => {
  const m = createMetrics();
  const c = m.counter({ name: 'late_total', help: 'x', labelNames: ['k'] as const });
  const bound = c.labels({ k: 'a' });
  bound.inc();
  expect((await m.expose('application/openmetrics-text')).body).toContain('late_total{k="a"} 1\n');

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  await m.expose(); // a scrape picks up the newly registered tracing globals
  const span = trace.wrapSpanContext({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
  });
  context.with(trace.setSpan(context.active(), span), () => bound.inc(2));
  expect((await m.expose('application/openmetrics-text')).body).toMatch(
    /late_total\{k="a"\} 3 # \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"\} 2 \d+\.\d{3}\n/,
  );
});
