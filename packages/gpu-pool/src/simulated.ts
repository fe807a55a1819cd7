// Simulated and static devices, for machines without GPUs (`PERISCOPE_GPUS=sim:2x80GB,1x24GB`)
// and for hosts whose GPUs are known from configuration.
import type { GpuDevice } from './types';

/** A device from configuration. */
export interface StaticGpu {
  uuid: string;
  memoryMb: number;
  name?: string;
  index?: number;
  computeCapability?: number;
  pciBusId?: string;
  numaNode?: number;
}

const ITEM = /^(\d+)x(\d+(?:\.\d+)?)(GB|GiB|MB|MiB)(?:@(\d+(?:\.\d+)?))?$/i;

/**
 * `sim:2x80GB,1x24GB@8.9` → 3 devices (80 GB ×2, then 24 GB with compute capability 8.9; default 9.0).
 * Returns a string saying what is wrong instead of throwing, so the caller names its option.
 */
export function parseSimulatedSpec(spec: string): GpuDevice[] | string {
  const text = spec.trim();
  if (!text.toLowerCase().startsWith('sim:')) return 'a spec starting with "sim:"';
  const items = text
    .slice(4)
    .split(',')
    .map((s) => s.trim());
  const devices: GpuDevice[] = [];
  for (const item of items) {
    const m = ITEM.exec(item);
    if (m === null) return `items like 2x80GB or 1x24GB@8.9 (count x size GB|GiB|MB|MiB [@compute capability])`;
    const count = Number(m[1]);
    const unit = m[3].toLowerCase();
    const mb = Math.round(Number(m[2]) * (unit === 'gb' || unit === 'gib' ? 1024 : 1));
    if (count < 1 || count > 64 || mb < 1) return 'between 1 and 64 devices per item, each with memory > 0';
    for (let i = 0; i < count; i++) {
      const index = devices.length;
      devices.push({
        uuid: `GPU-51a1a7ed-0000-4000-8000-${String(index).padStart(12, '0')}`,
        index,
        name: `Simulated GPU ${m[2]}${m[3]}`,
        source: 'simulated',
        memoryTotalMb: mb,
        memoryUsedMb: 0,
        memoryFreeMb: mb,
        utilizationGpu: 0,
        computeCapability: m[4] === undefined ? 9 : Number(m[4]),
        pciBusId: `00000000:${(index + 1).toString(16).padStart(2, '0')}:00.0`,
      });
    }
  }
  if (devices.length > 64) return 'at most 64 simulated devices';
  return devices;
}

/** Devices from configuration; a string says what is wrong with which entry. */
export function staticDevices(list: readonly StaticGpu[]): GpuDevice[] | string {
  const seen = new Set<string>();
  const out: GpuDevice[] = [];
  for (const [i, g] of list.entries()) {
    if (g === null || typeof g !== 'object' || typeof g.uuid !== 'string' || g.uuid === '') return `entry ${i}: a uuid`;
    if (typeof g.memoryMb !== 'number' || !(g.memoryMb > 0)) return `entry ${i}: memoryMb > 0`;
    if (seen.has(g.uuid)) return `entry ${i}: a uuid not used twice`;
    seen.add(g.uuid);
    out.push({
      uuid: g.uuid,
      index: g.index ?? i,
      name: g.name ?? 'GPU',
      source: 'static',
      memoryTotalMb: g.memoryMb,
      computeCapability: g.computeCapability,
      pciBusId: g.pciBusId,
      numaNode: g.numaNode,
    });
  }
  return out;
}
