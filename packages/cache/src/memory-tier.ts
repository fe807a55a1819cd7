// L1: a Map-based memory tier. LRU moves an entry to the end of the Map on a hit, FIFO never
// does, LFU keeps O(1) frequency buckets, TTL evicts the entry closest to expiry (min-heap with
// lazy deletion). A hit is one Map lookup plus the policy's bookkeeping — nothing else.
import type { EntryMeta } from './serializer';
import type { EvictionReason, TierCounters } from './instrumentation';

export type L1Policy = 'lru' | 'lfu' | 'fifo' | 'ttl';

export interface L1Entry extends EntryMeta {
  value: unknown;
  size: number;
  /** Fresh in L1 until this instant: expiresAt, shortened by jitter. */
  l1ExpiresAt: number;
  freq: number;
}

export interface MemoryTierOptions {
  policy: L1Policy;
  maxEntries: number;
  /** 0 = no byte limit. */
  maxBytes: number;
}

export class MemoryTier {
  private readonly map = new Map<string, L1Entry>();
  private readonly tagIndex = new Map<string, Set<string>>();
  private bytes = 0;
  // LFU: frequency → keys in least-recently-used order.
  private readonly buckets = new Map<number, Set<string>>();
  private minFreq = 1;
  // TTL: min-heap of (expiry, key, entry); stale rows are skipped on pop.
  private readonly heap: { at: number; key: string; entry: L1Entry }[] = [];

  constructor(
    private readonly options: MemoryTierOptions,
    private readonly counters: TierCounters,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The entry (fresh or within grace), or undefined. Expired-past-grace entries are dropped. */
  get(key: string, now: number): L1Entry | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    if (entry.staleUntil <= now) {
      this.remove(key, entry);
      this.counters.evicted('expired');
      this.publishSize();
      return undefined;
    }
    switch (this.options.policy) {
      case 'lru':
        this.map.delete(key);
        this.map.set(key, entry);
        break;
      case 'lfu':
        this.bump(key, entry);
        break;
    }
    return entry;
  }

  /** Looks without touching recency or frequency (used to find stale values). */
  peek(key: string): L1Entry | undefined {
    return this.map.get(key);
  }

  set(key: string, entry: L1Entry): void {
    const old = this.map.get(key);
    if (old) this.remove(key, old);
    this.map.set(key, entry);
    this.bytes += entry.size;
    for (const tag of entry.tags) {
      let keys = this.tagIndex.get(tag);
      if (!keys) this.tagIndex.set(tag, (keys = new Set()));
      keys.add(key);
    }
    if (this.options.policy === 'lfu') {
      entry.freq = 1;
      this.bucket(1).add(key);
      this.minFreq = 1;
    } else if (this.options.policy === 'ttl') {
      this.heapPush({ at: entry.l1ExpiresAt, key, entry });
    }
    this.counters.set();
    this.enforceLimits(key);
    this.publishSize();
  }

  delete(key: string): boolean {
    const entry = this.map.get(key);
    if (!entry) return false;
    this.remove(key, entry);
    this.counters.deleted();
    this.publishSize();
    return true;
  }

  /** Deletes every entry carrying one of the tags; returns the keys removed. */
  deleteByTags(tags: readonly string[]): string[] {
    const removed: string[] = [];
    for (const tag of tags) {
      const keys = this.tagIndex.get(tag);
      if (!keys) continue;
      for (const key of [...keys]) {
        const entry = this.map.get(key);
        if (entry) {
          this.remove(key, entry);
          removed.push(key);
        }
      }
      this.tagIndex.delete(tag);
    }
    this.counters.deleted(removed.length);
    this.publishSize();
    return removed;
  }

  clear(): number {
    const n = this.map.size;
    this.map.clear();
    this.tagIndex.clear();
    this.buckets.clear();
    this.heap.length = 0;
    this.minFreq = 1;
    this.bytes = 0;
    this.counters.deleted(n);
    this.publishSize();
    return n;
  }

  /** Drops entries past their grace period (background sweep). */
  sweep(now: number): void {
    let n = 0;
    for (const [key, entry] of this.map) {
      if (entry.staleUntil <= now) {
        this.remove(key, entry);
        this.counters.evicted('expired');
        n++;
      }
    }
    if (n) this.publishSize();
  }

  private remove(key: string, entry: L1Entry): void {
    this.map.delete(key);
    this.bytes -= entry.size;
    for (const tag of entry.tags) {
      const keys = this.tagIndex.get(tag);
      if (keys && keys.delete(key) && keys.size === 0) this.tagIndex.delete(tag);
    }
    if (this.options.policy === 'lfu') {
      const b = this.buckets.get(entry.freq);
      if (b && b.delete(key) && b.size === 0) this.buckets.delete(entry.freq);
    }
  }

  private enforceLimits(justSet: string): void {
    const { maxEntries, maxBytes } = this.options;
    while (this.map.size > maxEntries || (maxBytes > 0 && this.bytes > maxBytes && this.map.size > 0)) {
      const reason: EvictionReason = this.map.size > maxEntries ? 'capacity' : 'bytes';
      const victim = this.victim(justSet);
      if (victim === undefined) break;
      const entry = this.map.get(victim)!;
      this.remove(victim, entry);
      this.counters.evicted(reason);
      if (victim === justSet) break; // a single value larger than maxBytes is not kept
    }
  }

  private victim(justSet: string): string | undefined {
    switch (this.options.policy) {
      case 'lru':
      case 'fifo':
        return this.map.keys().next().value;
      case 'lfu': {
        // The entry just written has the lowest count by construction; evicting it would make
        // LFU refuse every newcomer, so it is skipped unless it is alone.
        for (let f: number | undefined = this.minFreq; f !== undefined; f = this.nextFreq(f)) {
          const b = this.buckets.get(f);
          if (b) for (const k of b) if (k !== justSet) return k;
        }
        return justSet;
      }
      case 'ttl': {
        while (this.heap.length) {
          const top = this.heapPop()!;
          if (this.map.get(top.key) === top.entry) return top.key;
        }
        return this.map.keys().next().value;
      }
    }
  }

  /** The smallest used frequency above f: a short walk, or a scan when counts are sparse. */
  private nextFreq(f: number): number | undefined {
    for (let g = f + 1; g <= f + 16; g++) if (this.buckets.has(g)) return g;
    let best: number | undefined;
    for (const g of this.buckets.keys()) if (g > f && (best === undefined || g < best)) best = g;
    return best;
  }

  private bump(key: string, entry: L1Entry): void {
    const f = entry.freq;
    const b = this.buckets.get(f);
    if (b) {
      b.delete(key);
      if (b.size === 0) {
        this.buckets.delete(f);
        if (this.minFreq === f) this.minFreq = f + 1;
      }
    }
    entry.freq = f + 1;
    this.bucket(f + 1).add(key);
  }

  private bucket(f: number): Set<string> {
    let b = this.buckets.get(f);
    if (!b) this.buckets.set(f, (b = new Set()));
    return b;
  }

  private heapPush(item: { at: number; key: string; entry: L1Entry }): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= h[i].at) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
    // Rows for replaced entries pile up when keys are rewritten often; rebuild when mostly stale.
    if (h.length > 2 * this.map.size + 64) this.rebuildHeap();
  }

  private heapPop(): { at: number; key: string; entry: L1Entry } | undefined {
    const h = this.heap;
    if (!h.length) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].at < h[m].at) m = l;
        if (r < h.length && h[r].at < h[m].at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }

  private rebuildHeap(): void {
    const live = this.heap.filter((x) => this.map.get(x.key) === x.entry).sort((a, b) => a.at - b.at);
    this.heap.length = 0;
    this.heap.push(...live); // a sorted array is a valid min-heap
  }

  private publishSize(): void {
    this.counters.size(this.map.size, this.bytes);
  }
}
