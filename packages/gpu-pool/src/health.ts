// When a device is unhealthy, from one poll's readings. Unknown readings never make a device unhealthy.
import type { GpuDevice } from './types';

export interface HealthOptions {
  /** Poll period; `0` turns polling off (`pool.pollHealth()` still works). Env `PERISCOPE_GPU_HEALTH_INTERVAL`. Default `10000` for nvidia-smi devices, `0` otherwise. */
  intervalMs?: number;
  /** Unhealthy at or above this temperature (°C). Default `90`. */
  maxTemperatureC?: number;
  /** Unhealthy at or above this utilization (%), e.g. to leave a GPU another tenant saturates. Default none. */
  maxUtilization?: number;
  /**
   * Unhealthy when `clocks_event_reasons.active` has one of these bits. Default `0xE8`: HW slowdown
   * (0x8), SW thermal (0x20), HW thermal (0x40), HW power brake (0x80).
   */
  throttleMask?: number;
  /** Unhealthy on any uncorrected volatile ECC error. Default `true`. */
  eccErrors?: boolean;
  /** Consecutive failed queries (nvidia-smi timeout, exit, garbage) before its devices are unhealthy. Default `2`. */
  failureThreshold?: number;
  /** Consecutive healthy polls before an unhealthy device takes leases again. Default `3`. */
  recoverAfter?: number;
}

export type ResolvedHealth = Required<Omit<HealthOptions, 'maxUtilization'>> & { maxUtilization?: number };

export const THROTTLE_BITS: Record<number, string> = {
  0x8: 'hw_slowdown',
  0x20: 'sw_thermal_slowdown',
  0x40: 'hw_thermal_slowdown',
  0x80: 'hw_power_brake_slowdown',
};

export function unhealthyReasons(d: GpuDevice, o: ResolvedHealth): string[] {
  const reasons: string[] = [];
  if (d.temperatureC !== undefined && d.temperatureC >= o.maxTemperatureC)
    reasons.push(`temperature ${d.temperatureC} C`);
  if (o.maxUtilization !== undefined && d.utilizationGpu !== undefined && d.utilizationGpu >= o.maxUtilization)
    reasons.push(`utilization ${d.utilizationGpu} %`);
  if (o.eccErrors && d.eccUncorrectedVolatile !== undefined && d.eccUncorrectedVolatile > 0)
    reasons.push(`${d.eccUncorrectedVolatile} uncorrected ECC errors`);
  const t = (d.throttleReasons ?? 0) & o.throttleMask;
  if (t !== 0) {
    for (const [bit, name] of Object.entries(THROTTLE_BITS)) if (t & Number(bit)) reasons.push(`throttled: ${name}`);
    if (reasons.length === 0) reasons.push(`throttled: 0x${t.toString(16)}`);
  }
  return reasons;
}
