// Pool options, declared once and resolved once: explicit option > PERISCOPE_GPU_* variable > default.
import { createConfigReader, NOOP_LOGGER, type Env, type Logger } from '@periscope/core';
import type { Metrics } from '@periscope/metrics';
import type { DiscoveryOptions, GpuDiscovery } from './discovery';
import { GpuPoolConfigError } from './errors';
import type { HealthOptions, ResolvedHealth } from './health';
import type { GpuLedger } from './ledger';
import { STRATEGIES, type Strategy } from './scheduler';
import type { GpuDevice } from './types';

export interface GpuPoolEvent {
  type: 'failover' | 'recovered' | 'overcommit' | 'discovery_error';
  uuid?: string;
  reasons?: readonly string[];
  usedMb?: number;
  reservedMb?: number;
  message?: string;
}

export interface GpuPoolOptions {
  /** The devices to allocate (e.g. from `discoverGpus()`); give either this or `discovery`. */
  devices?: readonly GpuDevice[];
  /** Discover the devices (and poll their health) with these options, or this discovery. Default `{}` when `devices` is not given. */
  discovery?: DiscoveryOptions | GpuDiscovery;
  /** `best-fit` (pack), `spread` (least loaded), `round-robin`, `first-fit`. Env `PERISCOPE_GPU_STRATEGY`. Default `'best-fit'`. */
  strategy?: Strategy;
  /** Added to every lease's memory on each of its devices (a CUDA context is ~300–500 MiB). Env `PERISCOPE_GPU_LEASE_OVERHEAD_MB`. Default `0`. */
  overheadMb?: number;
  /** Requests waiting at most; more fail with GpuQueueFullError. Env `PERISCOPE_GPU_MAX_QUEUE`. Default `1000`. */
  maxQueue?: number;
  /** Default `timeoutMs` of `acquire`. Env `PERISCOPE_GPU_ACQUIRE_TIMEOUT`. Default `60000`. */
  acquireTimeoutMs?: number;
  /** One step of priority is worth this much waiting (aging against starvation). Env `PERISCOPE_GPU_AGING`. Default `30000`. */
  agingMs?: number;
  /** Let smaller requests start ahead of a blocked head on devices the head is not waiting for. Env `PERISCOPE_GPU_BACKFILL`. Default `true`. */
  backfill?: boolean;
  /** Requests looked at behind a blocked head per decision. Default `256`. */
  backfillDepth?: number;
  /** `run()` re-queues its request (keeping its place) when a device of its lease fails. Env `PERISCOPE_GPU_RETRY_ON_FAILOVER`. Default `true`. */
  retryOnFailover?: boolean;
  /** Failovers one `run()` survives. Default `2`. */
  maxFailovers?: number;
  /** Count measured memory use beyond the pool's reservations as taken (nvidia-smi devices). Default `true`. */
  reconcile?: boolean;
  health?: HealthOptions;
  /** Share leases with other processes through Redis (see `createRedisLedger`). Default none. */
  ledger?: GpuLedger;
  /** Pool label of the metrics. Default `'default'`. */
  name?: string;
  metrics?: Metrics;
  logger?: Logger;
  onEvent?: (event: GpuPoolEvent) => void;
  env?: Env;
  /** Clock (ms) for wait times and aging. Default `Date.now`. */
  now?: () => number;
}

const KNOWN = [
  'devices',
  'discovery',
  'strategy',
  'overheadMb',
  'maxQueue',
  'acquireTimeoutMs',
  'agingMs',
  'backfill',
  'backfillDepth',
  'retryOnFailover',
  'maxFailovers',
  'reconcile',
  'health',
  'ledger',
  'name',
  'metrics',
  'logger',
  'onEvent',
  'env',
  'now',
] as const;
const HEALTH_KNOWN = [
  'intervalMs',
  'maxTemperatureC',
  'maxUtilization',
  'throttleMask',
  'eccErrors',
  'failureThreshold',
  'recoverAfter',
] as const;

export interface Resolved {
  strategy: Strategy;
  overheadMb: number;
  maxQueue: number;
  acquireTimeoutMs: number;
  agingMs: number;
  backfill: boolean;
  backfillDepth: number;
  retryOnFailover: boolean;
  maxFailovers: number;
  reconcile: boolean;
  health: ResolvedHealth;
  /** undefined: decided by the devices' source. */
  healthIntervalMs: number | undefined;
  name: string;
  logger: Logger;
  now: () => number;
}

export function resolveOptions(options: GpuPoolOptions): Resolved {
  const r = createConfigReader({ env: options.env, error: (o, a, g, s) => new GpuPoolConfigError(o, a, g, s) });
  r.rejectUnknown(options, KNOWN);
  if (options.devices !== undefined && options.discovery !== undefined)
    r.fail('devices', 'either devices or discovery, not both', 'both');
  if (options.devices !== undefined && !Array.isArray(options.devices))
    r.fail('devices', 'an array of devices (from discoverGpus)', options.devices);
  const h = options.health ?? {};
  createConfigReader({ error: (o, a, g, s) => new GpuPoolConfigError(o, a, g, s), scope: 'health' }).rejectUnknown(
    h,
    HEALTH_KNOWN,
    'health',
  );
  const hr = createConfigReader({
    env: options.env,
    error: (o, a, g, s) => new GpuPoolConfigError(o, a, g, s),
    scope: 'health',
  });
  return {
    strategy: r.oneOf('strategy', options.strategy, STRATEGIES, { env: 'PERISCOPE_GPU_STRATEGY', default: 'best-fit' }),
    overheadMb: r.number('overheadMb', options.overheadMb, {
      env: 'PERISCOPE_GPU_LEASE_OVERHEAD_MB',
      default: 0,
      min: 0,
    }),
    maxQueue: r.integer('maxQueue', options.maxQueue, { env: 'PERISCOPE_GPU_MAX_QUEUE', default: 1000, min: 0 }),
    acquireTimeoutMs: r.duration('acquireTimeoutMs', options.acquireTimeoutMs, {
      env: 'PERISCOPE_GPU_ACQUIRE_TIMEOUT',
      default: 60_000,
      min: 0,
    }),
    agingMs: r.duration('agingMs', options.agingMs, { env: 'PERISCOPE_GPU_AGING', default: 30_000, min: 1 }),
    backfill: r.boolean('backfill', options.backfill, { env: 'PERISCOPE_GPU_BACKFILL', default: true }),
    backfillDepth: r.integer('backfillDepth', options.backfillDepth, { default: 256, min: 0 }),
    retryOnFailover: r.boolean('retryOnFailover', options.retryOnFailover, {
      env: 'PERISCOPE_GPU_RETRY_ON_FAILOVER',
      default: true,
    }),
    maxFailovers: r.integer('maxFailovers', options.maxFailovers, { default: 2, min: 0 }),
    reconcile: r.boolean('reconcile', options.reconcile, { default: true }),
    healthIntervalMs: hr.duration('intervalMs', h.intervalMs, {
      env: 'PERISCOPE_GPU_HEALTH_INTERVAL',
      default: undefined,
      min: 0,
    }),
    health: {
      intervalMs: 0,
      maxTemperatureC: hr.number('maxTemperatureC', h.maxTemperatureC, { default: 90 }),
      maxUtilization: hr.number('maxUtilization', h.maxUtilization, { default: undefined, min: 0, max: 100 }),
      throttleMask: hr.integer('throttleMask', h.throttleMask, { default: 0xe8, min: 0 }),
      eccErrors: hr.boolean('eccErrors', h.eccErrors, { default: true }),
      failureThreshold: hr.integer('failureThreshold', h.failureThreshold, { default: 2, min: 1 }),
      recoverAfter: hr.integer('recoverAfter', h.recoverAfter, { default: 3, min: 1 }),
    },
    name: r.string('name', options.name, { default: 'default' }),
    logger: options.logger ?? NOOP_LOGGER,
    now: options.now ?? Date.now,
  };
}
