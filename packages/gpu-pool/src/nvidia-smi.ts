// Runs nvidia-smi without blocking the event loop: execFile with a timeout that SIGKILLs a hung
// tool (a sick GPU can hang it for minutes), and a query that drops fields the driver does not know.
import { execFile } from 'node:child_process';
import { knownValue, numberValue, parseCsv } from './csv';
import { GpuDiscoveryError } from './errors';
import type { GpuDevice } from './types';

/** Queried per GPU. `clocks_throttle_reasons.active` is the long-lived alias of `clocks_event_reasons.active`. */
export const GPU_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'memory.free',
  'utilization.gpu',
  'utilization.memory',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'compute_cap',
  'pci.bus_id',
  'mig.mode.current',
  'ecc.errors.uncorrected.volatile.total',
  'clocks_throttle_reasons.active',
] as const;

export interface RunOptions {
  command: string;
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
  /** Kills the tool (SIGKILL) when aborted, e.g. by the pool's close(). */
  signal?: AbortSignal;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** stdout of `command args`, or a GpuDiscoveryError saying why not (`stdout` kept on a non-zero exit). */
export function runTool(args: readonly string[], options: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      options.command,
      args,
      {
        timeout: options.timeoutMs,
        signal: options.signal,
        killSignal: 'SIGKILL',
        maxBuffer: MAX_OUTPUT,
        env: options.env,
        windowsHide: true,
        encoding: 'utf8',
      },
      (err, stdout) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string; code?: unknown };
        if (e.code === 'ENOENT')
          return reject(new GpuDiscoveryError('not_found', `${options.command} not found on PATH`, err));
        if (e.killed || e.signal === 'SIGKILL')
          return reject(
            new GpuDiscoveryError('timeout', `${options.command} did not answer within ${options.timeoutMs} ms`, err),
          );
        const out = String(stdout ?? '').slice(0, 300);
        reject(
          Object.assign(
            new GpuDiscoveryError(
              'exit',
              `${options.command} ${args[0] ?? ''} failed (${String(e.code)}): ${out}`,
              err,
            ),
            { stdout: String(stdout ?? '') },
          ),
        );
      },
    );
  });
}

const INVALID_FIELD = /Field "([^"]+)" is not a valid field to query/;

/**
 * Runs `--query-gpu` with `fields`, dropping each field the driver reports as invalid and asking
 * again without it. Returns the rows and the fields actually answered.
 */
export async function queryGpus(
  fields: readonly string[],
  options: RunOptions,
  dropped: Set<string>,
): Promise<{ fields: string[]; rows: string[][] }> {
  let asked = fields.filter((f) => !dropped.has(f));
  for (;;) {
    try {
      const out = await runTool([`--query-gpu=${asked.join(',')}`, '--format=csv,noheader,nounits'], options);
      return { fields: asked, rows: parseCsv(out) };
    } catch (err) {
      const m = INVALID_FIELD.exec((err as { stdout?: string }).stdout ?? '');
      if (m === null || !asked.includes(m[1]) || asked.length === 1) throw err;
      dropped.add(m[1]);
      asked = asked.filter((f) => f !== m[1]);
    }
  }
}

/** Devices from `--query-gpu` rows; rows without a UUID or memory size (garbage) are skipped and counted. */
export function devicesFromRows(
  fields: readonly string[],
  rows: readonly string[][],
): { devices: GpuDevice[]; bad: number } {
  const col = new Map(fields.map((f, i) => [f, i]));
  const devices: GpuDevice[] = [];
  let bad = 0;
  for (const row of rows) {
    const get = (f: string) => (col.has(f) && row.length === fields.length ? row[col.get(f)!] : undefined);
    const uuid = knownValue(get('uuid'));
    const total = numberValue(get('memory.total'));
    if (uuid === undefined || !/^(GPU|MIG)-[0-9a-fA-F-]+$/.test(uuid) || total === undefined) {
      bad++;
      continue;
    }
    const mig = knownValue(get('mig.mode.current'));
    devices.push({
      uuid,
      index: numberValue(get('index')) ?? devices.length,
      name: knownValue(get('name')) ?? 'NVIDIA GPU',
      source: 'nvidia-smi',
      memoryTotalMb: total,
      memoryUsedMb: numberValue(get('memory.used')),
      memoryFreeMb: numberValue(get('memory.free')),
      utilizationGpu: numberValue(get('utilization.gpu')),
      utilizationMemory: numberValue(get('utilization.memory')),
      temperatureC: numberValue(get('temperature.gpu')),
      powerDrawW: numberValue(get('power.draw')),
      powerLimitW: numberValue(get('power.limit')),
      computeCapability: numberValue(get('compute_cap')),
      pciBusId: knownValue(get('pci.bus_id')),
      migMode: mig === 'Enabled' || mig === 'Disabled' ? mig : undefined,
      eccUncorrectedVolatile: numberValue(get('ecc.errors.uncorrected.volatile.total')),
      throttleReasons: numberValue(get('clocks_throttle_reasons.active') ?? get('clocks_event_reasons.active')),
    });
  }
  return { devices, bad };
}

const GPU_LINE = /^GPU (\d+): .*\(UUID: (GPU-[0-9a-fA-F-]+)\)/;
const MIG_LINE = /^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[0-9a-fA-F-]+)\)/;

/** MIG instances per parent GPU UUID from `nvidia-smi -L`. */
export function parseMigList(text: string): Map<string, { profile: string; uuid: string; device: number }[]> {
  const out = new Map<string, { profile: string; uuid: string; device: number }[]>();
  let parent: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const g = GPU_LINE.exec(line);
    if (g) {
      parent = g[2];
      out.set(parent, []);
      continue;
    }
    const m = MIG_LINE.exec(line);
    if (m && parent !== undefined) out.get(parent)!.push({ profile: m[1], device: Number(m[2]), uuid: m[3] });
  }
  return out;
}

/** Memory of a MIG profile (`3g.40gb` → 40 GB nominal; NVIDIA rounds up, so 95 % of it is counted). */
export function migProfileMemoryMb(profile: string): number | undefined {
  const m = /\.(\d+)gb/i.exec(profile);
  return m ? Math.floor(Number(m[1]) * 1024 * 0.95) : undefined;
}

/** Replaces each GPU in MIG mode by its instances (each allocatable on its own). */
export function expandMig(devices: readonly GpuDevice[], migs: ReturnType<typeof parseMigList>): GpuDevice[] {
  const out: GpuDevice[] = [];
  for (const d of devices) {
    if (d.migMode !== 'Enabled') {
      out.push(d);
      continue;
    }
    for (const inst of migs.get(d.uuid) ?? []) {
      const mem = migProfileMemoryMb(inst.profile);
      if (mem === undefined) continue;
      out.push({
        ...d,
        uuid: inst.uuid,
        name: `${d.name} MIG ${inst.profile}`,
        memoryTotalMb: mem,
        memoryUsedMb: undefined,
        memoryFreeMb: undefined,
        mig: { parentUuid: d.uuid, profile: inst.profile },
      });
    }
  }
  return out;
}

/** NUMA node per GPU index from `nvidia-smi topo -m` (the "NUMA Affinity" column); ANSI codes ignored. */
export function parseTopology(text: string): Map<number, number> {
  const out = new Map<number, number>();
  // eslint-disable-next-line no-control-regex
  const lines = text.replace(/\u001b\[[0-9;]*m/g, '').split(/\r?\n/);
  const header = lines.find((l) => l.includes('NUMA Affinity'));
  if (header === undefined) return out;
  const col = header.split('\t').findIndex((c) => c.trim() === 'NUMA Affinity');
  for (const line of lines) {
    const cells = line.split('\t');
    const m = /^GPU(\d+)$/.exec(cells[0]?.trim() ?? '');
    const node = m ? Number(cells[col]?.trim()) : Number.NaN;
    if (m && cells[col]?.trim() !== '' && Number.isInteger(node)) out.set(Number(m[1]), node);
  }
  return out;
}
