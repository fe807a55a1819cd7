// The public shapes of the pool: requests, leases, status.
import type { GpuDevice, GpuSource } from './types';

export interface GpuRequest {
  /** Memory per device, MiB. */
  memoryMb: number;
  /** Devices, all reserved together or none. Default `1`. */
  count?: number;
  /** e.g. `8.0` for Ampere or newer. */
  minComputeCapability?: number;
  /** No other lease on the devices while this one holds them. Default `false`. */
  exclusive?: boolean;
  /** Higher first; one step is worth `agingMs` of waiting. Default `0`. */
  priority?: number;
  /** Default the pool's `acquireTimeoutMs`. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Shown in status() and spans. */
  label?: string;
}

export interface GpuLease {
  readonly id: string;
  readonly devices: readonly GpuDevice[];
  /** `CUDA_VISIBLE_DEVICES` and `NVIDIA_VISIBLE_DEVICES` by UUID, for a child process's env. */
  readonly env: { readonly CUDA_VISIBLE_DEVICES: string; readonly NVIDIA_VISIBLE_DEVICES: string };
  readonly memoryMb: number;
  readonly label?: string;
  readonly waitedMs: number;
  /** Aborted (reason: GpuFailoverError) when one of the devices becomes unhealthy, or at close(). */
  readonly signal: AbortSignal;
  /** Gives the memory back; idempotent. */
  release(): void;
}

export interface GpuPoolStatus {
  source: GpuSource | 'none' | 'pending';
  strategy: string;
  devices: {
    uuid: string;
    index: number;
    name: string;
    source: GpuSource;
    healthy: boolean;
    reasons: readonly string[];
    totalMb: number;
    reservedMb: number;
    freeMb: number;
    leases: number;
    utilizationGpu?: number;
    temperatureC?: number;
  }[];
  leases: { id: string; uuids: string[]; memoryMb: number; label?: string; heldMs: number }[];
  queue: {
    depth: number;
    oldestWaitMs: number;
    head: { label?: string; memoryMb: number; count: number; waitedMs: number }[];
  };
}

export interface GpuPool {
  /** Resolves once the devices are known (discovery done). */
  readonly ready: Promise<void>;
  acquire(request: GpuRequest): Promise<GpuLease>;
  /** Runs `fn` under a lease, released when `fn` settles; re-run on failover if `retryOnFailover`. */
  run<T>(request: GpuRequest, fn: (lease: GpuLease) => Promise<T> | T): Promise<T>;
  /** One health poll now (also run every `health.intervalMs`). */
  pollHealth(): Promise<void>;
  status(): GpuPoolStatus;
  /** Rejects waiting requests (GpuPoolClosedError), stops polling, releases ledger entries; idempotent. */
  close(): Promise<void>;
}
