// discoverGpus: nvidia-smi first (async, timed out, cached, backed off while it keeps failing),
// then systeminformation in a worker, then static devices from config, then simulated devices.
import { createConfigReader, NOOP_LOGGER, type Env, type Logger } from '@periscope/core';
import { GpuDiscoveryError, GpuPoolConfigError } from './errors';
import {
  GPU_FIELDS,
  devicesFromRows,
  expandMig,
  parseMigList,
  parseTopology,
  queryGpus,
  runTool,
  type RunOptions,
} from './nvidia-smi';
import { parseSimulatedSpec, staticDevices, type StaticGpu } from './simulated';
import { graphicsOffThread } from './systeminformation';
import type { GpuDevice, GpuSource } from './types';

export interface DiscoveryOptions {
  /** The nvidia-smi executable. Env `PERISCOPE_GPU_NVIDIA_SMI`. Default `'nvidia-smi'` (from PATH). */
  command?: string;
  /** Kill nvidia-smi after this long. Env `PERISCOPE_GPU_DISCOVERY_TIMEOUT`. Default `10000` (10 s). */
  timeoutMs?: number;
  /** Answers younger than this are served from cache. Env `PERISCOPE_GPU_DISCOVERY_CACHE`. Default `5000`. */
  cacheTtlMs?: number;
  /** First wait after a failed nvidia-smi run before the next; doubles up to `maxBackoffMs`. Default `1000`. */
  backoffMs?: number;
  /** Default `300000` (5 min). */
  maxBackoffMs?: number;
  /** Try `systeminformation.graphics()` (in a worker thread) when nvidia-smi fails. Env `PERISCOPE_GPU_SYSTEMINFORMATION`. Default `true`. */
  systeminformation?: boolean;
  /** Devices known from configuration, used when neither tool finds any. */
  static?: readonly StaticGpu[];
  /** `sim:2x80GB,1x24GB` — simulated devices, the last fallback. Env `PERISCOPE_GPUS`. Default none. */
  simulated?: string;
  /** Environment read for options, and given to nvidia-smi (its PATH finds the tool). Default `process.env`. */
  env?: Env;
  logger?: Logger;
  /** Clock (ms). Default `Date.now`. */
  now?: () => number;
}

export interface DiscoveryResult {
  devices: GpuDevice[];
  /** Source of the devices, `'none'` when nothing was found. */
  source: GpuSource | 'none';
  /** Failures of the sources tried before the one that answered. */
  errors: GpuDiscoveryError[];
  /** When the answer was produced (clock ms); a cached answer keeps its time. */
  at: number;
  cached: boolean;
}

const KNOWN = [
  'command',
  'timeoutMs',
  'cacheTtlMs',
  'backoffMs',
  'maxBackoffMs',
  'systeminformation',
  'static',
  'simulated',
  'env',
  'logger',
  'now',
] as const;

export class GpuDiscovery {
  private readonly run: RunOptions;
  private readonly cacheTtlMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly useSi: boolean;
  private readonly fallback: { devices: GpuDevice[]; source: GpuSource } | undefined;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly dropped = new Set<string>();
  /** NUMA node per GPU index, read once from `nvidia-smi topo -m` when there are several GPUs. */
  private numa: Map<number, number> | undefined;
  private cache: DiscoveryResult | undefined;
  private inflight: Promise<DiscoveryResult> | undefined;
  private failures = 0;
  private retryAt = 0;
  /** Counted by the pool's instrumentation. */
  onError: (err: GpuDiscoveryError) => void = () => undefined;

  constructor(options: DiscoveryOptions = {}) {
    const reader = createConfigReader({
      env: options.env,
      error: (o, a, g, s) => new GpuPoolConfigError(o, a, g, s),
      scope: 'discovery',
    });
    reader.rejectUnknown(options, KNOWN);
    this.run = {
      command: reader.string('command', options.command, { env: 'PERISCOPE_GPU_NVIDIA_SMI', default: 'nvidia-smi' }),
      timeoutMs: reader.duration('timeoutMs', options.timeoutMs, {
        env: 'PERISCOPE_GPU_DISCOVERY_TIMEOUT',
        default: 10_000,
        min: 1,
      }),
      env: { ...(options.env ?? process.env) },
    };
    this.cacheTtlMs = reader.duration('cacheTtlMs', options.cacheTtlMs, {
      env: 'PERISCOPE_GPU_DISCOVERY_CACHE',
      default: 5000,
      min: 0,
    });
    this.backoffMs = reader.duration('backoffMs', options.backoffMs, { default: 1000, min: 0 });
    this.maxBackoffMs = reader.duration('maxBackoffMs', options.maxBackoffMs, { default: 300_000, min: 0 });
    this.useSi = reader.boolean('systeminformation', options.systeminformation, {
      env: 'PERISCOPE_GPU_SYSTEMINFORMATION',
      default: true,
    });
    this.fallback = resolveFallback(reader, options);
    this.logger = options.logger ?? NOOP_LOGGER;
    this.now = options.now ?? Date.now;
  }

  /** Fields the driver reported as unknown and that are no longer asked for. */
  get droppedFields(): readonly string[] {
    return [...this.dropped];
  }

  /** The devices, from cache when younger than `cacheTtlMs` (unless `fresh`). Never rejects. */
  discover(fresh = false): Promise<DiscoveryResult> {
    const c = this.cache;
    if (!fresh && c !== undefined && this.now() - c.at < this.cacheTtlMs)
      return Promise.resolve({ ...c, cached: true });
    // Concurrent callers share one run of the tool.
    this.inflight ??= this.discoverNow().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** nvidia-smi alone (no fallback); rejects with a GpuDiscoveryError. Used by health polling. */
  async queryNvidiaSmi(signal?: AbortSignal): Promise<GpuDevice[]> {
    const run = signal === undefined ? this.run : { ...this.run, signal };
    if (this.now() < this.retryAt)
      throw new GpuDiscoveryError(
        'backoff',
        `nvidia-smi failed ${this.failures} times; next try in ${this.retryAt - this.now()} ms`,
      );
    try {
      const { fields, rows } = await queryGpus(GPU_FIELDS, run, this.dropped);
      const { devices, bad } = devicesFromRows(fields, rows);
      if (devices.length === 0 && bad > 0)
        throw new GpuDiscoveryError('parse', `nvidia-smi printed ${bad} line(s) that are not GPU rows`);
      const located = devices.length > 1 ? await this.withNuma(devices) : devices;
      const withMig = located.some((d) => d.migMode === 'Enabled')
        ? expandMig(located, parseMigList(await runTool(['-L'], run)))
        : located;
      this.failures = 0;
      this.retryAt = 0;
      return withMig;
    } catch (err) {
      const e = err instanceof GpuDiscoveryError ? err : new GpuDiscoveryError('exit', String(err), err);
      this.failures++;
      this.retryAt = this.now() + Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (this.failures - 1));
      throw e;
    }
  }

  /** Topology is optional: a failure is counted and logged, and the devices go without it. */
  private async withNuma(devices: GpuDevice[]): Promise<GpuDevice[]> {
    if (this.numa === undefined) {
      try {
        this.numa = parseTopology(await runTool(['topo', '-m'], this.run));
      } catch (err) {
        this.numa = new Map();
        const e = err instanceof GpuDiscoveryError ? err : new GpuDiscoveryError('exit', String(err), err);
        this.onError(e);
        this.logger.info('nvidia-smi topo -m failed; multi-GPU leases use PCI domains', { error: e.message });
      }
    }
    const numa: Map<number, number> = this.numa;
    return devices.map((d) =>
      d.numaNode === undefined && numa.has(d.index) ? { ...d, numaNode: numa.get(d.index) } : d,
    );
  }

  private async discoverNow(): Promise<DiscoveryResult> {
    const errors: GpuDiscoveryError[] = [];
    const fail = (e: GpuDiscoveryError) => {
      errors.push(e);
      this.onError(e);
      if (e.reason !== 'not_found' && e.reason !== 'backoff')
        this.logger.warn('GPU discovery failed', { error: e.message });
    };
    let found: { devices: GpuDevice[]; source: GpuSource } | undefined;
    try {
      const devices = await this.queryNvidiaSmi();
      if (devices.length > 0) found = { devices, source: 'nvidia-smi' };
    } catch (err) {
      fail(err as GpuDiscoveryError);
    }
    if (found === undefined && this.useSi) {
      try {
        const devices = await graphicsOffThread(this.run.timeoutMs);
        if (devices.length > 0) found = { devices, source: 'systeminformation' };
      } catch (err) {
        fail(new GpuDiscoveryError('exit', `systeminformation: ${(err as Error).message}`, err));
      }
    }
    found ??= this.fallback;
    const result: DiscoveryResult = {
      devices: found?.devices ?? [],
      source: found?.source ?? 'none',
      errors,
      at: this.now(),
      cached: false,
    };
    this.cache = result;
    return result;
  }
}

function resolveFallback(
  reader: ReturnType<typeof createConfigReader>,
  options: DiscoveryOptions,
): { devices: GpuDevice[]; source: GpuSource } | undefined {
  if (options.static !== undefined) {
    if (!Array.isArray(options.static)) reader.fail('static', 'an array of { uuid, memoryMb }', options.static);
    const devices = staticDevices(options.static);
    if (typeof devices === 'string') reader.fail('static', devices, options.static);
    if (devices.length > 0) return { devices, source: 'static' };
  }
  const spec = reader.string('simulated', options.simulated, { env: 'PERISCOPE_GPUS', default: undefined });
  if (spec === undefined || /^(none|off)$/i.test(spec)) return undefined;
  const devices = parseSimulatedSpec(spec);
  if (typeof devices === 'string') {
    if (options.simulated !== undefined) reader.fail('simulated', devices, spec);
    throw new GpuPoolConfigError('PERISCOPE_GPUS', devices, spec);
  }
  return { devices, source: 'simulated' };
}

const shared = new WeakMap<object, GpuDiscovery>();
let defaultDiscovery: GpuDiscovery | undefined;

/** A stateful discovery (cache, backoff); the pool creates one from its `discovery` options. */
export function createGpuDiscovery(options?: DiscoveryOptions): GpuDiscovery {
  return new GpuDiscovery(options);
}

/**
 * The GPUs of this machine. Calls with the same options object (or none) share one cache and one
 * backoff, so calling it often costs one nvidia-smi run per `cacheTtlMs`.
 */
export function discoverGpus(options?: DiscoveryOptions): Promise<DiscoveryResult> {
  let d: GpuDiscovery | undefined;
  if (options === undefined) d = defaultDiscovery ??= new GpuDiscovery();
  else {
    d = shared.get(options);
    if (d === undefined) shared.set(options, (d = new GpuDiscovery(options)));
  }
  return d.discover();
}
