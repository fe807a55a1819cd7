// close() is bounded: with the span endpoint black-holed it settles within closeTimeoutMs, says in
// one stderr line how many spans were not exported, and counts them in the drop metric.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TcpFaultProxy } from '@periscope-tools/testing';
import { startTracing, trace, type MetricLabels, type MetricsLike } from '../src';

function recorder() {
  const drops = new Map<string, number>();
  const metrics: MetricsLike = {
    counter: (config) => ({
      inc: (labels: MetricLabels, value = 1) => {
        if (config.name === 'periscope_tracing_dropped_spans_total')
          drops.set(String(labels.reason), (drops.get(String(labels.reason)) ?? 0) + value);
      },
    }),
    histogram: () => ({ observe: () => undefined }),
  };
  return { metrics, drops };
}

test('close() settles within closeTimeoutMs with the collector black-holed, and reports the loss', async () => {
  const sink = http.createServer((_req, res) => res.end());
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const proxy = await TcpFaultProxy.start({
    target: { host: '127.0.0.1', port: (sink.address() as AddressInfo).port },
  });
  proxy.blackhole();
  const stderr: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
  const { metrics, drops } = recorder();
  try {
    const tracing = startTracing({
      exporter: 'zipkin',
      zipkin: { endpoint: `http://127.0.0.1:${proxy.port}/api/v2/spans` },
      closeTimeoutMs: 500,
      metrics,
      spanMetrics: false,
    });
    for (let i = 0; i < 50; i++) trace('work', () => i);
    const started = Date.now();
    await tracing.close();
    const took = Date.now() - started;
    // Generous for a loaded machine; without the bound the SDK waits for its 10 s export timeout.
    expect(took).toBeLessThan(4000);
    expect(stderr.join('')).toMatch(
      /periscope tracing: zipkin: 50 span\(s\) not exported \(close gave up after 500 ms\)/,
    );
    expect(drops.get('close_timeout')).toBe(50);
  } finally {
    spy.mockRestore();
    await proxy.close();
    sink.closeAllConnections();
    await new Promise((resolve) => sink.close(resolve));
  }
}, 30_000);

test('a close with nothing lost prints nothing', async () => {
  const spy = jest.spyOn(process.stderr, 'write');
  const tracing = startTracing({ exporter: 'memory' });
  trace('work', () => 1);
  await tracing.close();
  expect(spy).not.toHaveBeenCalled();
  spy.mockRestore();
});
