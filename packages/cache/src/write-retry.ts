// Writes that failed while L2 was down, kept to be written when it returns (l2.retryWrites).
// Bounded: newest write per key wins; past the bound the oldest is dropped (counted). A delete,
// deleteByTag or clear drops the pending writes it covers, so a retry never resurrects a value
// that was invalidated during the outage. Entries past their TTL are never written.
export interface PendingWrite {
  bytes: Buffer;
  /** Epoch ms when the entry's grace ends: its L2 TTL runs until then. */
  staleUntil: number;
  tags: readonly string[];
}

export class WriteRetryQueue {
  private readonly pending = new Map<string, PendingWrite>();
  /** Keys taken for a retry and not superseded since (by a newer write, a delete or a clear). */
  private readonly taken = new Set<string>();
  dropped = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.pending.size;
  }

  remember(key: string, write: PendingWrite): void {
    this.taken.delete(key);
    this.pending.delete(key);
    this.pending.set(key, write);
    while (this.pending.size > this.max) {
      this.pending.delete(this.pending.keys().next().value!);
      this.dropped++;
    }
  }

  forget(keys: readonly string[]): void {
    for (const k of keys) {
      this.pending.delete(k);
      this.taken.delete(k);
    }
  }

  forgetTags(tags: readonly string[]): void {
    const wanted = new Set(tags);
    for (const [k, w] of this.pending) if (w.tags.some((t) => wanted.has(t))) this.pending.delete(k);
    // A retry in flight cannot be recalled, but a failed one must not come back.
    this.taken.clear();
  }

  clear(): void {
    this.pending.clear();
    this.taken.clear();
  }

  /** A retry that failed goes back, unless something newer happened to its key meanwhile. */
  restore(key: string, write: PendingWrite): void {
    if (!this.taken.delete(key) || this.pending.has(key)) return;
    this.pending.set(key, write);
  }

  /** A retry that succeeded. */
  done(key: string): void {
    this.taken.delete(key);
  }

  /** Takes the oldest pending write still within its TTL (expired ones are discarded). */
  take(now: number): [string, PendingWrite] | undefined {
    for (const [k, w] of this.pending) {
      this.pending.delete(k);
      if (w.staleUntil > now) {
        this.taken.add(k);
        return [k, w];
      }
    }
    return undefined;
  }
}
