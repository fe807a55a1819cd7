// Errors of @periscope/gpu-pool. Callers branch on `code`, never on message text.
import { ConfigError, PeriscopeError } from '@periscope/core';

export type GpuPoolErrorCode =
  | 'ERR_GPU_POOL_UNAVAILABLE'
  | 'ERR_GPU_POOL_QUEUE_FULL'
  | 'ERR_GPU_POOL_ABORTED'
  | 'ERR_GPU_POOL_CLOSED'
  | 'ERR_GPU_POOL_FAILOVER'
  | 'ERR_GPU_POOL_DISCOVERY'
  | 'ERR_GPU_POOL_UNSATISFIABLE'
  | 'ERR_GPU_POOL_LEDGER';

export class GpuPoolError<Code extends GpuPoolErrorCode = GpuPoolErrorCode> extends PeriscopeError<Code> {}

/** Invalid option or PERISCOPE_GPU* variable, thrown at start. */
export class GpuPoolConfigError extends ConfigError<'ERR_GPU_POOL_CONFIG'> {
  constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
    super(option, accepted, got, { code: 'ERR_GPU_POOL_CONFIG', suggestion });
  }
}

/** No device became free for the request within `timeoutMs`. */
export class GpuUnavailableError extends GpuPoolError<'ERR_GPU_POOL_UNAVAILABLE'> {
  readonly waitedMs: number;
  constructor(waitedMs: number, what: string) {
    super('ERR_GPU_POOL_UNAVAILABLE', `no GPU free for ${what} within ${Math.round(waitedMs)} ms`);
    this.waitedMs = waitedMs;
  }
}

/** The queue already holds `maxQueue` requests. */
export class GpuQueueFullError extends GpuPoolError<'ERR_GPU_POOL_QUEUE_FULL'> {
  constructor(maxQueue: number) {
    super('ERR_GPU_POOL_QUEUE_FULL', `the GPU queue is full (maxQueue ${maxQueue})`);
  }
}

/** No device of the pool could ever satisfy the request (too much memory, too old a GPU, too many). */
export class GpuUnsatisfiableError extends GpuPoolError<'ERR_GPU_POOL_UNSATISFIABLE'> {
  constructor(what: string) {
    super('ERR_GPU_POOL_UNSATISFIABLE', `no device of this pool can ever satisfy ${what}`);
  }
}

export class GpuAbortedError extends GpuPoolError<'ERR_GPU_POOL_ABORTED'> {
  constructor(reason?: unknown) {
    super('ERR_GPU_POOL_ABORTED', 'the GPU request was aborted', { cause: reason });
  }
}

export class GpuPoolClosedError extends GpuPoolError<'ERR_GPU_POOL_CLOSED'> {
  constructor() {
    super('ERR_GPU_POOL_CLOSED', 'the GPU pool is closed');
  }
}

/** The reason of a lease's aborted `signal` when one of its devices became unhealthy. */
export class GpuFailoverError extends GpuPoolError<'ERR_GPU_POOL_FAILOVER'> {
  readonly uuid: string;
  readonly reasons: readonly string[];
  constructor(uuid: string, reasons: readonly string[]) {
    super('ERR_GPU_POOL_FAILOVER', `GPU ${uuid} became unhealthy (${reasons.join(', ')})`);
    this.uuid = uuid;
    this.reasons = reasons;
  }
}

/** nvidia-smi (or another source) failed; `cause` holds the underlying error. */
export class GpuDiscoveryError extends GpuPoolError<'ERR_GPU_POOL_DISCOVERY'> {
  readonly reason: 'timeout' | 'not_found' | 'exit' | 'parse' | 'backoff';
  constructor(reason: GpuDiscoveryError['reason'], message: string, cause?: unknown) {
    super('ERR_GPU_POOL_DISCOVERY', message, { cause });
    this.reason = reason;
  }
}

export class GpuLedgerError extends GpuPoolError<'ERR_GPU_POOL_LEDGER'> {
  constructor(message: string, cause?: unknown) {
    super('ERR_GPU_POOL_LEDGER', message, { cause });
  }
}
