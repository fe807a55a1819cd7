// The storage under the Cache: L1 memory, L2 Redis, L3 disk and the codec between them. Reads
// from a lower tier are decoded (large compressed values off the event loop), counted and
// promoted into L1; an entry that cannot be decoded — garbage, a forged file, a value that
// inflates past maxDecompressedBytes — is a miss, counted as corrupt and deleted from its tier.
// Writes go through every tier; lower-tier failures are counted, never thrown.
import type { Logger } from '@periscope/core';
import type { Metrics } from '@periscope/metrics';
import type { ResolvedConfig } from './config';
import { TierCounters, type CacheCounters } from './instrumentation';
import { MemoryTier, type L1Entry } from './memory-tier';
import { RedisTier } from './redis-tier';
import { DiskTier } from './disk-tier';
import { Codec, estimateSize, type Decoded, type EntryMeta, type Serializer } from './serializer';
import type { SetOptions } from './types';

export interface PreparedEntry {
  key: string;
  entry: L1Entry;
  /** The bytes for L2/L3; absent when there are none, or when the value can live in L1 only. */
  envelope?: Buffer;
}

type Found = L1Entry | undefined;

export class Tiers {
  readonly l1: MemoryTier;
  readonly l2?: RedisTier;
  readonly l3?: DiskTier;
  readonly l1c: TierCounters;
  readonly l2c?: TierCounters;
  readonly l3c?: TierCounters;
  private readonly codec: Codec;
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    private readonly config: ResolvedConfig,
    deps: { metrics?: Metrics; serializer: Serializer; logger: Logger; counters: CacheCounters },
  ) {
    const ns = config.namespace;
    this.l1c = new TierCounters('l1', ns, deps.metrics);
    this.l1 = new MemoryTier(
      { policy: config.l1.policy, maxEntries: config.l1.maxEntries, maxBytes: config.l1.maxBytes },
      this.l1c,
    );
    this.codec = new Codec(deps.serializer, config.l2?.compressAboveBytes ?? 1024, config.maxDecompressedBytes);
    const l2 = config.l2;
    if (l2) {
      this.l2c = new TierCounters('l2', ns, deps.metrics);
      this.l2 = new RedisTier(
        {
          target: l2.target,
          client: l2.client,
          namespace: ns,
          keyPrefix: l2.keyPrefix,
          version: l2.version,
          timeoutMs: l2.timeoutMs,
          breaker: l2.breaker,
          reconnectMaxDelayMs: l2.reconnectMaxDelayMs,
          socketTimeoutMs: l2.socketTimeoutMs,
          retryWrites: l2.retryWrites,
        },
        this.l2c,
        (s) => deps.counters.breaker(s),
        deps.logger,
      );
    }
    if (config.l3) {
      this.l3c = new TierCounters('l3', ns, deps.metrics);
      this.l3 = new DiskTier(
        {
          dir: config.l3.dir,
          scope: `${ns}:v${l2?.version ?? '1'}`,
          maxBytes: config.l3.maxBytes,
          macKey: config.l3.macKey,
        },
        this.l3c,
      );
    }
  }

  /** L2 then L3; promotes what it finds (fresh or within grace) with its remaining TTL. */
  async lower(key: string, now: number): Promise<Found> {
    if (this.l2) {
      const hit = await this.fromL2(key, await this.readL2(key));
      if (hit) return hit;
    }
    return this.l3 ? this.fromL3(key, await this.l3.get(key, now)) : undefined;
  }

  /** A failing L2 reads as a miss (the tier counted the failure). */
  async readL2(key: string): Promise<Buffer | null> {
    try {
      return await this.l2!.get(key);
    } catch {
      return null;
    }
  }

  /** Counts and promotes an L2 read; synchronous unless the value is large and compressed. */
  fromL2(key: string, bytes: Buffer | null): Found | Promise<Found> {
    return this.promote(key, bytes, 'l2');
  }

  async fromL3(key: string, bytes: Buffer | null): Promise<Found> {
    const entry = await this.promote(key, bytes, 'l3');
    // Promote to L2 with the same bytes: same expiry, never a fresh TTL.
    if (entry && bytes && this.l2)
      this.track(this.l2.set(key, bytes, entry.staleUntil - Date.now(), entry.tags).catch(() => undefined));
    return entry;
  }

  /** A lower tier's read: counted as hit (fresh) or miss (stale or absent); usable entries go into L1. */
  private promote(key: string, bytes: Buffer | null, tier: 'l2' | 'l3'): Found | Promise<Found> {
    if (!bytes) return this.accept(key, undefined, 0, tier);
    if (this.codec.needsAsync(bytes)) {
      return this.codec.decodeAsync(bytes).then(
        (d) => this.accept(key, d, bytes.length, tier),
        () => this.corrupt(key, tier),
      );
    }
    let decoded: Decoded;
    try {
      decoded = this.codec.decode(bytes);
    } catch {
      return this.corrupt(key, tier);
    }
    return this.accept(key, decoded, bytes.length, tier);
  }

  private accept(key: string, decoded: Decoded | undefined, size: number, tier: 'l2' | 'l3'): Found {
    const counters = tier === 'l2' ? this.l2c! : this.l3c!;
    const entry = decoded && this.l1Entry(decoded.value, decoded.meta, size);
    if (entry && entry.staleUntil > Date.now()) {
      if (entry.expiresAt > Date.now()) counters.hit();
      else counters.miss();
      this.l1.set(key, entry);
      return entry;
    }
    counters.miss();
    return undefined;
  }

  /** Unreadable bytes: a miss, counted, and deleted so the next read does not pay for them again. */
  private corrupt(key: string, tier: 'l2' | 'l3'): undefined {
    const counters = tier === 'l2' ? this.l2c! : this.l3c!;
    counters.error('corrupt');
    counters.miss();
    if (tier === 'l2') this.track(this.l2!.delete([key]).catch(() => undefined));
    else this.track(this.l3!.delete([key]));
    return undefined;
  }

  l1Entry(value: unknown, meta: EntryMeta, size: number): L1Entry {
    const jitter = this.config.l1.jitter;
    const now = Date.now();
    const l1ExpiresAt =
      jitter > 0 && meta.expiresAt > now ? now + (meta.expiresAt - now) * (1 - Math.random() * jitter) : meta.expiresAt;
    return {
      value,
      createdAt: meta.createdAt,
      expiresAt: meta.expiresAt,
      staleUntil: meta.staleUntil,
      tags: meta.tags,
      size,
      l1ExpiresAt,
      freq: 0,
    };
  }

  /**
   * Serializes before anything changes, so bad input leaves every tier untouched. Throws
   * CacheSerializationError for a value the serializer refuses, unless `l1Only`: then the entry
   * is for L1 alone (which needs no bytes), sized by estimate.
   */
  prepare(key: string, value: unknown, options: SetOptions, l1Only = false): PreparedEntry {
    const now = Date.now();
    const ttl = options.ttlMs ?? this.config.defaultTtlMs;
    const grace = options.graceMs ?? this.config.graceMs;
    const meta: EntryMeta = {
      createdAt: now,
      expiresAt: now + ttl,
      staleUntil: now + ttl + grace,
      tags: options.tags ? [...options.tags] : [],
    };
    if (l1Only) return { key, entry: this.l1Entry(value, meta, estimateSize(value)) };
    const payload = this.codec.payload(value);
    const envelope = this.l2 || this.l3 ? this.codec.encode(payload, meta) : undefined;
    return { key, entry: this.l1Entry(value, meta, envelope?.length ?? payload.length), envelope };
  }

  async store(p: PreparedEntry): Promise<void> {
    this.l1.set(p.key, p.entry);
    if (!p.envelope) return;
    const { entry } = p;
    await Promise.all([
      this.l2?.set(p.key, p.envelope, entry.staleUntil - Date.now(), entry.tags).catch(() => undefined),
      this.l3?.set(p.key, p.envelope, entry.staleUntil, entry.tags),
    ]);
  }

  /** Keeps a background promise until it settles, so close() can wait for it. */
  track(p: Promise<unknown> | undefined): void {
    if (!p) return;
    this.background.add(p);
    p.catch(() => undefined).finally(() => this.background.delete(p));
  }

  sweep(now: number): void {
    this.l1.sweep(now);
    if (this.l3) this.track(this.l3.sweep(now));
  }

  /** Waits for background work and disk writes up to `timeoutMs`, then closes the L2 connection. */
  async close(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    const drain = (async () => {
      while (this.background.size) await Promise.allSettled([...this.background]);
      await this.l3?.flush();
    })();
    try {
      await Promise.race([drain, deadline]);
    } finally {
      clearTimeout(timer);
    }
    await this.l2?.close();
  }
}
