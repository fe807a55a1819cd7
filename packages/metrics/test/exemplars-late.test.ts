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

test('a context manager replaced (tracing closed and started again) is followed; unsampled spans give none', async () => {
  const m = createMetrics();
  const c = m.counter({ name: 'swap_total', help: 'x' });
  const sampled = (id: string) =>
    trace.wrapSpanContext({ traceId: id.repeat(32), spanId: '1'.repeat(16), traceFlags: TraceFlags.SAMPLED });
  const expo = async () => (await m.expose('application/openmetrics-text')).body;

  context.disable();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  await m.expose();
  context.with(trace.setSpan(context.active(), sampled('a')), () => c.inc());
  expect(await expo()).toContain(`trace_id="${'a'.repeat(32)}"`);

  // Closed: no manager, no active span, the exemplar stays the last one.
  context.disable();
  c.inc();
  expect(await expo()).toContain(`trace_id="${'a'.repeat(32)}"`);

  // Started again with a new manager: its spans are seen without recreating the metrics.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  context.with(trace.setSpan(context.active(), sampled('b')), () => c.inc());
  expect(await expo()).toContain(`trace_id="${'b'.repeat(32)}"`);
  const unsampled = trace.wrapSpanContext({ traceId: 'c'.repeat(32), spanId: '2'.repeat(16), traceFlags: 0 });
  context.with(trace.setSpan(context.active(), unsampled), () => c.inc());
  expect(await expo()).toContain(`trace_id="${'b'.repeat(32)}"`);
  expect(await expo()).toMatch(/swap_total 4 # /);
});
