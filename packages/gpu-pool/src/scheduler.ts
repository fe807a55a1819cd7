// The synchronous heart of the pool: device slots, placement strategies, and the queue with
// priority, aging and backfill. No timers and no promises here, so the benchmark drives the very
// same code in virtual time and a decision is measured without the event loop in it.
import { localityOf, type GpuDevice } from './types';

export type Strategy = 'best-fit' | 'spread' | 'round-robin' | 'first-fit';
export const STRATEGIES: readonly Strategy[] = ['best-fit', 'spread', 'round-robin', 'first-fit'];

export interface Slot {
  device: GpuDevice;
  readonly uuid: string;
  readonly order: number;
  readonly totalMb: number;
  readonly locality: string;
  /** Reserved by this pool's leases (request + overhead). */
  reservedMb: number;
  /** Used by others as measured: device memory in use beyond our reservations (driver reserve included). */
  externalMb: number;
  /** Reserved by other processes in the shared ledger. */
  remoteMb: number;
  leases: number;
  exclusive: boolean;
  healthy: boolean;
}

export interface Demand {
  /** Per device, overhead included. */
  needMb: number;
  count: number;
  minComputeCapability?: number;
  exclusive: boolean;
}

export interface Entry<T> {
  demand: Demand;
  /** Queue order: enqueue time minus priority × agingMs (smaller first); ties by seq. */
  key: number;
  seq: number;
  payload: T;
}

export interface SchedulerOptions {
  strategy: Strategy;
  backfill: boolean;
  /** Entries looked at behind a blocked head per decision. */
  backfillDepth: number;
}

export const free = (s: Slot): number => s.totalMb - s.reservedMb - Math.max(s.externalMb, s.remoteMb);

function eligible(s: Slot, d: Demand): boolean {
  return d.minComputeCapability === undefined || (s.device.computeCapability ?? 0) >= d.minComputeCapability;
}

function fits(s: Slot, d: Demand): boolean {
  return s.healthy && !s.exclusive && (!d.exclusive || s.leases === 0) && eligible(s, d) && free(s) >= d.needMb;
}

export class Scheduler<T> {
  readonly slots: Slot[];
  readonly queue: Entry<T>[] = [];
  private readonly options: SchedulerOptions;
  private cursor = 0;
  private seq = 0;

  constructor(devices: readonly GpuDevice[], options: SchedulerOptions) {
    this.options = options;
    this.slots = devices.map((device, order) => ({
      device,
      uuid: device.uuid,
      order,
      totalMb: device.memoryTotalMb,
      locality: localityOf(device),
      reservedMb: 0,
      externalMb: 0,
      remoteMb: 0,
      leases: 0,
      exclusive: false,
      healthy: true,
    }));
  }

  /** False when no set of devices could ever hold `d`, whatever is released or recovers. */
  canEverFit(d: Demand): boolean {
    return this.slots.filter((s) => eligible(s, d) && s.totalMb >= d.needMb).length >= d.count;
  }

  /** Devices for `d` now (all or nothing), by strategy; `avoid` is never used. */
  place(d: Demand, avoid?: ReadonlySet<Slot>): Slot[] | undefined {
    const fitting: Slot[] = [];
    for (const s of this.slots) if (fits(s, d) && !avoid?.has(s)) fitting.push(s);
    if (fitting.length < d.count) return undefined;
    if (d.count === 1) return [this.pickOne(fitting, d)];
    // Multi-GPU: within one locality (NUMA node / PCI domain) when one has enough, else across.
    const groups = new Map<string, Slot[]>();
    for (const s of fitting) {
      const g = groups.get(s.locality);
      if (g) g.push(s);
      else groups.set(s.locality, [s]);
    }
    let best: Slot[] | undefined;
    let bestScore = Infinity;
    for (const g of groups.values()) {
      if (g.length < d.count) continue;
      const chosen = this.sorted(g, d).slice(0, d.count);
      const score = this.groupScore(chosen, d);
      if (score < bestScore) [best, bestScore] = [chosen, score];
    }
    const chosen = best ?? this.sorted(fitting, d).slice(0, d.count);
    if (this.options.strategy === 'round-robin') this.cursor = chosen[chosen.length - 1].order + 1;
    return chosen;
  }

  private pickOne(fitting: Slot[], d: Demand): Slot {
    const strategy = this.options.strategy;
    if (strategy === 'first-fit') return fitting[0];
    if (strategy === 'round-robin') {
      const n = this.slots.length;
      let pick = fitting[0];
      let bestDist = Infinity;
      for (const s of fitting) {
        const dist = (s.order - (this.cursor % n) + n) % n;
        if (dist < bestDist) [pick, bestDist] = [s, dist];
      }
      this.cursor = pick.order + 1;
      return pick;
    }
    let pick = fitting[0];
    for (let i = 1; i < fitting.length; i++) if (this.better(fitting[i], pick, d)) pick = fitting[i];
    return pick;
  }

  /** Strategy order: best-fit → least memory left (partly used devices first); spread → most free, fewest leases. */
  private better(a: Slot, b: Slot, d: Demand): boolean {
    const strategy = this.options.strategy;
    if (strategy === 'best-fit') {
      const la = free(a) - d.needMb;
      const lb = free(b) - d.needMb;
      if (la !== lb) return la < lb;
      return a.order < b.order;
    }
    if (strategy === 'spread') {
      if (a.leases !== b.leases) return a.leases < b.leases;
      if (free(a) !== free(b)) return free(a) > free(b);
      return a.order < b.order;
    }
    return a.order < b.order;
  }

  private sorted(list: Slot[], d: Demand): Slot[] {
    if (this.options.strategy === 'round-robin') {
      const n = this.slots.length;
      const c = this.cursor % n;
      return [...list].sort((a, b) => ((a.order - c + n) % n) - ((b.order - c + n) % n));
    }
    return [...list].sort((a, b) => (this.better(a, b, d) ? -1 : this.better(b, a, d) ? 1 : 0));
  }

  private groupScore(chosen: Slot[], d: Demand): number {
    const left = chosen.reduce((sum, s) => sum + free(s) - d.needMb, 0);
    if (this.options.strategy === 'best-fit') return left;
    if (this.options.strategy === 'spread') return -left;
    return chosen[0].order;
  }

  reserve(slots: readonly Slot[], d: Demand): void {
    for (const s of slots) {
      s.reservedMb += d.needMb;
      s.leases++;
      if (d.exclusive) s.exclusive = true;
    }
  }

  unreserve(slots: readonly Slot[], d: Demand): void {
    for (const s of slots) {
      s.reservedMb = Math.max(0, s.reservedMb - d.needMb);
      s.leases = Math.max(0, s.leases - 1);
      if (d.exclusive) s.exclusive = false;
    }
  }

  /** Inserts in queue order (binary search on key, then seq). */
  enqueue(demand: Demand, key: number, payload: T): Entry<T> {
    const e: Entry<T> = { demand, key, seq: this.seq++, payload };
    const q = this.queue;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (q[mid].key < key || (q[mid].key === key && q[mid].seq < e.seq)) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, e);
    return e;
  }

  remove(e: Entry<T>): boolean {
    const i = this.queue.indexOf(e);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  /**
   * Grants what can start now. The head of the queue starts when it fits; when it does not, the
   * devices it waits for (the ones closest to holding it) are held back, and a later request may
   * start only on the other devices, so backfill never takes memory the head is waiting for.
   */
  dispatch(): { entry: Entry<T>; slots: Slot[] }[] {
    const grants: { entry: Entry<T>; slots: Slot[] }[] = [];
    const q = this.queue;
    let held: Set<Slot> | undefined;
    // Free memory of the devices backfill may use, largest first: a request needing `count` devices
    // is looked at only when the count-th largest is enough (cheap, and most blocked requests stop here).
    let others: number[] = [];
    let scanned = 0;
    for (let i = 0; i < q.length;) {
      const e = q[i];
      if (held === undefined) {
        const slots = this.place(e.demand);
        if (slots) {
          this.reserve(slots, e.demand);
          q.splice(i, 1);
          grants.push({ entry: e, slots });
          continue;
        }
        if (!this.options.backfill) break;
        held = this.heldFor(e.demand);
        others = this.freeOf(held);
        i++;
        continue;
      }
      if (++scanned > this.options.backfillDepth) break;
      const d = e.demand;
      if (d.count > others.length || others[d.count - 1] < d.needMb) {
        i++;
        continue;
      }
      const slots = this.place(d, held);
      if (slots) {
        this.reserve(slots, d);
        q.splice(i, 1);
        grants.push({ entry: e, slots });
        others = this.freeOf(held);
        continue;
      }
      i++;
    }
    return grants;
  }

  /** The devices a blocked head waits for: the eligible ones closest to holding it. */
  private heldFor(d: Demand): Set<Slot> {
    const candidates = this.slots.filter((s) => s.healthy && eligible(s, d) && s.totalMb >= d.needMb);
    candidates.sort((a, b) => (d.exclusive && a.leases !== b.leases ? a.leases - b.leases : free(b) - free(a)));
    return new Set(candidates.slice(0, d.count));
  }

  private freeOf(held: ReadonlySet<Slot>): number[] {
    const out: number[] = [];
    for (const s of this.slots) if (s.healthy && !s.exclusive && !held.has(s)) out.push(free(s));
    return out.sort((a, b) => b - a);
  }
}
