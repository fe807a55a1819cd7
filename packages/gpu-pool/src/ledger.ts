// The shape of a lease ledger shared by several processes on one host (see redis-ledger.ts).

export interface LedgerClaim {
  leaseId: string;
  exclusive: boolean;
  /** Per device: its size and what this lease takes of it (overhead included). */
  devices: readonly { uuid: string; totalMb: number; needMb: number }[];
}

export type LedgerAnswer =
  { ok: true } | { ok: false; /** Memory others hold, per device UUID. */ takenMb: Record<string, number> };

export interface GpuLedger {
  /** Reserves on every device or on none (atomically), or says what others hold. */
  reserve(claim: LedgerClaim): Promise<LedgerAnswer>;
  release(leaseId: string, uuids: readonly string[]): Promise<void>;
  /** Memory held by other processes on each device (expired entries dropped). */
  othersMb(uuids: readonly string[]): Promise<Record<string, number>>;
  /** Called when others' holdings may have changed (each heartbeat), so waiting requests are retried. */
  onChange(listener: () => void): void;
  close(): Promise<void>;
}
