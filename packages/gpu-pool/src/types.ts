// The device model every part of the pool shares.

/** Where a device came from. */
export type GpuSource = 'nvidia-smi' | 'systeminformation' | 'static' | 'simulated';

/** One allocatable GPU (or MIG instance), keyed by UUID. Unknown readings are `undefined`, never 0. */
export interface GpuDevice {
  /** `GPU-…`, or `MIG-…` for a MIG instance; stable across boots, unlike `index`. */
  readonly uuid: string;
  readonly index: number;
  readonly name: string;
  readonly source: GpuSource;
  readonly memoryTotalMb: number;
  readonly memoryUsedMb?: number;
  readonly memoryFreeMb?: number;
  /** Percent, 0–100. */
  readonly utilizationGpu?: number;
  readonly utilizationMemory?: number;
  /** °C. */
  readonly temperatureC?: number;
  /** Watts. */
  readonly powerDrawW?: number;
  readonly powerLimitW?: number;
  /** `major.minor`, e.g. 9.0 for Hopper. */
  readonly computeCapability?: number;
  /** `00000000:09:00.0` */
  readonly pciBusId?: string;
  readonly migMode?: 'Enabled' | 'Disabled';
  readonly eccUncorrectedVolatile?: number;
  /** Bitmask of clocks_event_reasons.active (alias clocks_throttle_reasons.active). */
  readonly throttleReasons?: number;
  /** NUMA node (from config); multi-GPU leases prefer devices of one node, else of one PCI domain. */
  readonly numaNode?: number;
  /** Set on MIG instances. */
  readonly mig?: { readonly parentUuid: string; readonly profile: string };
}

/** The locality group of a device: its NUMA node when known, else its PCI domain. */
export function localityOf(device: GpuDevice): string {
  if (device.numaNode !== undefined) return `numa:${device.numaNode}`;
  // The PCI domain is the part of the bus id before the bus (`00000000` of `00000000:09:00.0`).
  const id = device.pciBusId;
  if (id === undefined) return 'unknown';
  const parts = id.split(':');
  return parts.length >= 3 ? parts[0] : 'unknown';
}
