// The node's GPUs: discovered by @periscope/gpu-pool (nvidia-smi, else systeminformation, else
// PERISCOPE_GPUS), exported with DCGM-exporter names on /metrics, a warn-level `gpus` check that
// flags unhealthy devices, and a `gpus` section in /status. The monitor leases nothing.
import { createGpuPool, type GpuPool } from '@periscope/gpu-pool';
import type { HealthServer, CheckOutcome } from '@periscope/health';
import type { Metrics } from '@periscope/metrics';
import type { PeriscopeLogger } from '@periscope/logging';

export function watchGpus(
  server: HealthServer,
  metrics: Metrics,
  logger: PeriscopeLogger,
  intervalMs: number,
  env: NodeJS.ProcessEnv = process.env,
): GpuPool {
  const gpus = createGpuPool({ name: 'node', metrics, logger, env });
  server.addCheck({
    name: 'gpus',
    measurement: 'healthyDevices',
    // A sick GPU degrades the node; it does not make the monitor itself unready.
    critical: false,
    componentType: 'system',
    timeoutMs: 15_000,
    minIntervalMs: intervalMs,
    run: async (): Promise<CheckOutcome> => {
      await gpus.ready;
      if (gpus.status().source === 'nvidia-smi') await gpus.pollHealth();
      const { devices, source } = gpus.status();
      if (devices.length === 0) return { status: 'pass', observedValue: 0, observedUnit: 'GPUs', output: 'no GPU' };
      const sick = devices.filter((d) => !d.healthy);
      return {
        status: sick.length ? 'warn' : 'pass',
        observedValue: devices.length - sick.length,
        observedUnit: 'healthy GPUs',
        output: sick.length
          ? sick.map((d) => `GPU ${d.index} (${d.uuid}) unhealthy: ${d.reasons.join(', ')}`).join('; ')
          : `${devices.length} healthy (${source})`,
      };
    },
  });
  server.addStatus('gpus', () => gpus.status());
  server.onShutdown('gpus', () => gpus.close());
  return gpus;
}
