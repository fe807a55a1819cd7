// Pool metrics as domain events, registered on the caller's Metrics (optional): DCGM-exporter names
// for device readings (so DCGM Grafana dashboards work unchanged), periscope_gpu_pool_* for the
// pool, and @periscope/metrics' GenAI GPU gauges. Without Metrics every call is a no-op.
import type { Metrics } from '@periscope/metrics';
import { free, type Slot } from './scheduler';

export interface PoolInstruments {
  devices(slots: readonly Slot[]): void;
  queue(depth: number): void;
  leases(active: number): void;
  acquired(waitSeconds: number): void;
  rejected(reason: 'timeout' | 'queue_full' | 'aborted' | 'closed' | 'unsatisfiable'): void;
  failover(uuid: string): void;
  discoveryError(reason: string): void;
  overcommit(uuid: string): void;
}

const NOOP: PoolInstruments = {
  devices() {},
  queue() {},
  leases() {},
  acquired() {},
  rejected() {},
  failover() {},
  discoveryError() {},
  overcommit() {},
};

const DCGM_LABELS = ['gpu', 'UUID', 'modelName'] as const;

export function createInstruments(metrics: Metrics | undefined, pool: string): PoolInstruments {
  if (!metrics) return NOOP;
  const devices = deviceGauges(metrics, pool);
  const depth = metrics
    .gauge({
      name: 'periscope_gpu_pool_queue_depth',
      help: 'Requests waiting for a GPU',
      labelNames: ['pool'] as const,
    })
    .labels({ pool });
  const active = metrics
    .gauge({ name: 'periscope_gpu_pool_leases_active', help: 'Leases held', labelNames: ['pool'] as const })
    .labels({ pool });
  const wait = metrics
    .histogram({
      name: 'periscope_gpu_pool_wait_seconds',
      help: 'Time from acquire() to a lease',
      labelNames: ['pool'] as const,
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    })
    .labels({ pool });
  const rejected = metrics.counter({
    name: 'periscope_gpu_pool_rejected_total',
    help: 'Requests that got no lease, by reason (timeout, queue_full, aborted, closed, unsatisfiable)',
    labelNames: ['pool', 'reason'] as const,
  });
  const failovers = metrics.counter({
    name: 'periscope_gpu_pool_failovers_total',
    help: 'Devices that became unhealthy while the pool used them',
    labelNames: ['pool', 'UUID'] as const,
  });
  const discoveryErrors = metrics.counter({
    name: 'periscope_gpu_pool_discovery_errors_total',
    help: 'Failed discovery or health queries, by reason (timeout, not_found, exit, parse, backoff)',
    labelNames: ['pool', 'reason'] as const,
  });
  const overcommits = metrics.counter({
    name: 'periscope_gpu_pool_overcommits_total',
    help: 'Polls that measured more memory used on a device than its leases reserved',
    labelNames: ['pool', 'UUID'] as const,
  });
  return {
    devices,
    queue(n) {
      depth.set(n);
    },
    leases(n) {
      active.set(n);
    },
    acquired(s) {
      wait.observe(s);
    },
    rejected(reason) {
      rejected.inc({ pool, reason });
    },
    failover(uuid) {
      failovers.inc({ pool, UUID: uuid });
    },
    discoveryError(reason) {
      discoveryErrors.inc({ pool, reason });
    },
    overcommit(uuid) {
      overcommits.inc({ pool, UUID: uuid });
    },
  };
}

/** DCGM-named device gauges, the pool's per-device gauges and the GenAI GPU gauges. */
function deviceGauges(metrics: Metrics, pool: string): (slots: readonly Slot[]) => void {
  const dcgm = (name: string, help: string) => metrics.gauge({ name, help, labelNames: DCGM_LABELS });
  const util = dcgm('DCGM_FI_DEV_GPU_UTIL', 'GPU utilization (in %).');
  const fbUsed = dcgm('DCGM_FI_DEV_FB_USED', 'Framebuffer memory used (in MiB).');
  const fbFree = dcgm('DCGM_FI_DEV_FB_FREE', 'Framebuffer memory free (in MiB).');
  const temp = dcgm('DCGM_FI_DEV_GPU_TEMP', 'GPU temperature (in C).');
  const power = dcgm('DCGM_FI_DEV_POWER_USAGE', 'Power draw (in W).');
  const reserved = metrics.gauge({
    name: 'periscope_gpu_pool_memory_reserved_bytes',
    help: 'Device memory reserved by leases of the pool (requests plus per-lease overhead)',
    labelNames: ['pool', 'UUID'] as const,
  });
  const healthy = metrics.gauge({
    name: 'periscope_gpu_pool_device_healthy',
    help: '1 when the device takes new leases, 0 while unhealthy',
    labelNames: ['pool', 'UUID', 'source'] as const,
  });
  return (slots) => {
    for (const s of slots) {
      const d = s.device;
      const l = { gpu: String(d.index), UUID: d.uuid, modelName: d.name };
      // A simulated device "uses" what its leases reserve.
      const simulated = d.source === 'simulated';
      const used = simulated ? s.reservedMb : d.memoryUsedMb;
      const freeMb = simulated ? s.totalMb - s.reservedMb : d.memoryFreeMb;
      if (d.utilizationGpu !== undefined) util.set(l, d.utilizationGpu);
      if (used !== undefined) fbUsed.set(l, used);
      if (freeMb !== undefined) fbFree.set(l, freeMb);
      if (d.temperatureC !== undefined) temp.set(l, d.temperatureC);
      if (d.powerDrawW !== undefined) power.set(l, d.powerDrawW);
      reserved.set({ pool, UUID: d.uuid }, s.reservedMb * 1024 * 1024);
      healthy.set({ pool, UUID: d.uuid, source: d.source }, s.healthy ? 1 : 0);
      metrics.setGpuStats({
        gpu: d.uuid,
        utilization: Math.min(1, Math.max(0, (d.utilizationGpu ?? 0) / 100)),
        memoryUsedBytes: Math.max(0, (used ?? s.totalMb - free(s)) * 1024 * 1024),
        memoryTotalBytes: s.totalMb * 1024 * 1024,
      });
    }
  };
}
