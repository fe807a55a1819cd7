// Public surface of @periscope/gpu-pool.
export { discoverGpus, createGpuDiscovery, GpuDiscovery } from './discovery';
export type { DiscoveryOptions, DiscoveryResult } from './discovery';
export { splitCsvLine, parseCsv, knownValue, numberValue } from './csv';
export { GPU_FIELDS } from './nvidia-smi';
export { parseSimulatedSpec } from './simulated';
export type { StaticGpu } from './simulated';
export type { GpuDevice, GpuSource } from './types';
export {
  GpuPoolError,
  GpuPoolConfigError,
  GpuUnavailableError,
  GpuQueueFullError,
  GpuUnsatisfiableError,
  GpuAbortedError,
  GpuPoolClosedError,
  GpuFailoverError,
  GpuDiscoveryError,
  GpuLedgerError,
} from './errors';
export type { GpuPoolErrorCode } from './errors';
export { createGpuPool } from './pool';
export type { GpuPool, GpuLease, GpuRequest, GpuPoolStatus } from './lease';
export type { GpuPoolOptions, GpuPoolEvent } from './config';
export type { HealthOptions } from './health';
export type { Strategy } from './scheduler';
export type { GpuLedger, LedgerClaim, LedgerAnswer } from './ledger';
export { createRedisLedger } from './redis-ledger';
export type { RedisLedgerOptions } from './redis-ledger';
