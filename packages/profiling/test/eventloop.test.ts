import { createMetrics } from '@periscope/metrics';
import { monitorEventLoop, ProfilingConfigError } from '../src';
import { hotSpin } from './workload';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('event loop', () => {
  test('a blocked loop shows as delay and utilization', async () => {
    const monitor = monitorEventLoop({ resolutionMs: 5, intervalMs: 60_000 });
    try {
      await sleep(30);
      hotSpin(120);
      await sleep(30);
      const s = monitor.snapshot();
      expect(s.delayMaxMs).toBeGreaterThanOrEqual(100);
      expect(s.delayP99Ms).toBeGreaterThanOrEqual(s.delayP50Ms);
      expect(s.utilization).toBeGreaterThan(0.4);
      expect(s.utilization).toBeLessThanOrEqual(1);
    } finally {
      await monitor.close();
    }
  });

  test('each window is published to metrics and starts afresh; close() is idempotent', async () => {
    const metrics = createMetrics();
    const monitor = monitorEventLoop({ resolutionMs: 5, intervalMs: 60_000, metrics });
    await sleep(20);
    hotSpin(80);
    await sleep(20);
    const finished = monitor.roll();
    expect(finished.delayMaxMs).toBeGreaterThanOrEqual(60);
    expect(monitor.lastWindow()).toEqual(finished);
    await sleep(30);
    expect(monitor.snapshot().delayMaxMs).toBeLessThan(finished.delayMaxMs);
    const { body } = await metrics.expose();
    expect(body).toMatch(
      /periscope_profiling_event_loop_delay_seconds\{stat="max"\} 0\.0[6-9]|periscope_profiling_event_loop_delay_seconds\{stat="max"\} 0\.[1-9]/,
    );
    expect(body).toMatch(/periscope_profiling_event_loop_utilization_ratio 0\.\d+/);
    await monitor.close();
    await monitor.close();
    await metrics.close();
  });

  test('options are checked', () => {
    expect(() => monitorEventLoop({ resolutionMs: 0 })).toThrow(ProfilingConfigError);
    expect(() => monitorEventLoop({ env: { PERISCOPE_PROFILING_EVENT_LOOP_INTERVAL: 'x' } })).toThrow(
      /PERISCOPE_PROFILING_EVENT_LOOP_INTERVAL/,
    );
  });
});
