// Host metrics come from the real machine through systeminformation, in the background.
import { createMetrics } from '../src';

function value(
  m: ReturnType<typeof createMetrics>,
  name: string,
): Array<{ labels: Record<string, string>; value: number }> {
  return (m.toJSON().find((s) => s.name === name)?.series ?? []) as Array<{
    labels: Record<string, string>;
    value: number;
  }>;
}

describe('host metrics', () => {
  test('CPU, memory, disk and network gauges are filled in the background; close() stops collection', async () => {
    const m = createMetrics({ hostMetrics: { intervalMs: 100 } });
    const collector = m.collectHostMetrics(); // already started by the option: the same collector
    await collector.collectNow();
    // systeminformation computes network rates from two readings at least 500 ms apart.
    await new Promise((r) => setTimeout(r, 550));
    await collector.collectNow();
    const total = value(m, 'periscope_host_memory_total_bytes')[0].value;
    expect(total).toBeGreaterThan(64 * 2 ** 20);
    expect(value(m, 'periscope_host_memory_used_bytes')[0].value).toBeGreaterThan(0);
    expect(value(m, 'periscope_host_memory_used_bytes')[0].value).toBeLessThanOrEqual(total);
    const cpu = value(m, 'periscope_host_cpu_load_ratio')[0].value;
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(1);
    const disks = value(m, 'periscope_host_disk_size_bytes');
    expect(disks.length).toBeGreaterThan(0);
    expect(disks[0].labels.mount).toBeTruthy();
    expect(value(m, 'periscope_host_network_receive_bytes_per_second').length).toBeGreaterThan(0);
    expect(value(m, 'periscope_host_collect_errors_total')).toEqual([]);
    const { body } = await m.expose();
    expect(body).toMatch(/\nperiscope_host_memory_total_bytes \d+\n/);
    await m.close();
    await m.close();
  });
});
