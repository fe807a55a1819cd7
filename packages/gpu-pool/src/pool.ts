// createGpuPool: leases of GPU memory on discovered (or given) devices, a fair queue, health
// failover. The decisions are made by the synchronous Scheduler; this file adds time (timeouts,
// aging keys, polling), promises, spans, metrics and the optional cross-process ledger.
import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { resolveOptions, type GpuPoolEvent, type GpuPoolOptions, type Resolved } from './config';
import { GpuDiscovery, type DiscoveryResult } from './discovery';
import {
  GpuAbortedError,
  GpuFailoverError,
  GpuPoolClosedError,
  GpuPoolConfigError,
  GpuQueueFullError,
  GpuUnavailableError,
  GpuUnsatisfiableError,
} from './errors';
import { unhealthyReasons } from './health';
import { createInstruments, type PoolInstruments } from './instrumentation';
import type { GpuLedger } from './ledger';
import { Scheduler, free, type Demand, type Entry, type Slot } from './scheduler';
import type { GpuDevice, GpuSource } from './types';
import type { GpuLease, GpuPool, GpuPoolStatus, GpuRequest } from './lease';

const tracer = trace.getTracer('@periscope/gpu-pool');

interface Waiter {
  request: GpuRequest;
  demand: Demand;
  enqueuedAt: number;
  resolve(lease: GpuLease): void;
  reject(err: Error): void;
  cleanup(): void;
  span: Span;
}

interface LeaseState {
  lease: GpuLease;
  slots: Slot[];
  demand: Demand;
  controller: AbortController;
  acquiredAt: number;
  released: boolean;
}

export function createGpuPool(options: GpuPoolOptions = {}): GpuPool {
  return new Pool(options);
}

class Pool implements GpuPool {
  readonly ready: Promise<void>;
  private readonly o: Resolved;
  private readonly discovery: GpuDiscovery | undefined;
  private readonly instruments: PoolInstruments;
  private readonly ledger: GpuLedger | undefined;
  private readonly onEvent: (e: GpuPoolEvent) => void;
  private scheduler: Scheduler<Waiter> = new Scheduler([], { strategy: 'best-fit', backfill: true, backfillDepth: 0 });
  private source: GpuSource | 'none' | 'pending' = 'pending';
  private readonly leases = new Set<LeaseState>();
  private readonly reasons = new Map<Slot, readonly string[]>();
  private readonly streaks = new Map<Slot, number>();
  private queryFailures = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Kills a health query still running at close(). */
  private readonly closing = new AbortController();
  private polling: Promise<void> | undefined;

  constructor(options: GpuPoolOptions) {
    this.o = resolveOptions(options);
    this.instruments = createInstruments(options.metrics, this.o.name);
    this.ledger = options.ledger;
    this.onEvent = options.onEvent ?? (() => undefined);
    if (options.devices !== undefined) {
      this.ready = Promise.resolve();
      this.setDevices(options.devices, options.devices[0]?.source ?? 'none');
    } else {
      const d = options.discovery;
      this.discovery =
        d instanceof GpuDiscovery ? d : new GpuDiscovery({ env: options.env, logger: this.o.logger, ...d });
      this.discovery.onError = (e) => {
        this.instruments.discoveryError(e.reason);
        this.onEvent({ type: 'discovery_error', message: e.message });
      };
      this.ready = this.discovery.discover().then((r) => this.setDevices(r.devices, r.source, r));
    }
    this.ledger?.onChange(() => void this.refreshRemote());
  }

  private setDevices(devices: readonly GpuDevice[], source: GpuSource | 'none', result?: DiscoveryResult): void {
    if (this.closed) return;
    const o = this.o;
    this.scheduler = new Scheduler(devices, {
      strategy: o.strategy,
      backfill: o.backfill,
      backfillDepth: o.backfillDepth,
    });
    this.source = source;
    for (const s of this.scheduler.slots) this.measure(s, s.device);
    if (result && result.errors.length > 0)
      o.logger.info('GPU discovery fell back', { source, errors: result.errors.length });
    this.instruments.devices(this.scheduler.slots);
    const interval = o.healthIntervalMs ?? (source === 'nvidia-smi' ? 10_000 : 0);
    if (interval > 0 && this.discovery !== undefined) {
      this.timer = setInterval(() => void this.pollHealth(), interval);
      this.timer.unref();
    }
  }

  acquire(request: GpuRequest): Promise<GpuLease> {
    return this.enqueue(request, undefined);
  }

  private async enqueue(request: GpuRequest, key: number | undefined): Promise<GpuLease> {
    const demand = this.demandOf(request);
    const span = tracer.startSpan('gpu.acquire', {
      attributes: {
        'periscope.gpu.pool': this.o.name,
        'periscope.gpu.memory_mb': request.memoryMb,
        'periscope.gpu.count': demand.count,
        ...(request.label !== undefined ? { 'periscope.gpu.label': request.label } : {}),
      },
    });
    const started = this.o.now();
    try {
      if (this.closed) throw new GpuPoolClosedError();
      if (request.signal?.aborted) throw new GpuAbortedError(request.signal.reason);
      await this.ready;
      if (this.closed) throw new GpuPoolClosedError();
      if (!this.scheduler.canEverFit(demand)) throw new GpuUnsatisfiableError(describe(request, this.o.overheadMb));
    } catch (err) {
      return this.fail(span, err as Error);
    }
    return new Promise<GpuLease>((resolve, reject) => {
      const waiter: Waiter = { request, demand, enqueuedAt: started, resolve, reject, cleanup: () => undefined, span };
      const entry = this.scheduler.enqueue(demand, key ?? started - (request.priority ?? 0) * this.o.agingMs, waiter);
      this.dispatch();
      if (!this.scheduler.queue.includes(entry)) return;
      if (this.scheduler.queue.length > this.o.maxQueue) {
        this.scheduler.remove(entry);
        this.instruments.rejected('queue_full');
        return reject(this.fail(span, new GpuQueueFullError(this.o.maxQueue), true));
      }
      this.arm(entry, waiter);
      this.instruments.queue(this.scheduler.queue.length);
    });
  }

  /** Timeout and abort for a queued request. */
  private arm(entry: Entry<Waiter>, waiter: Waiter): void {
    const { request } = waiter;
    const leave = (err: Error, reason: 'timeout' | 'aborted') => {
      if (!this.scheduler.remove(entry)) return;
      waiter.cleanup();
      this.instruments.rejected(reason);
      this.instruments.queue(this.scheduler.queue.length);
      waiter.reject(this.fail(waiter.span, err, true));
      this.dispatch(); // the head may have been holding devices back
    };
    // The deadline holds from the first enqueue (a request put back after a ledger refusal keeps it).
    const timeoutMs = Math.max(0, waiter.enqueuedAt + (request.timeoutMs ?? this.o.acquireTimeoutMs) - this.o.now());
    const timer = setTimeout(
      () =>
        leave(
          new GpuUnavailableError(this.o.now() - waiter.enqueuedAt, describe(request, this.o.overheadMb)),
          'timeout',
        ),
      timeoutMs,
    );
    const onAbort = () => leave(new GpuAbortedError(request.signal?.reason), 'aborted');
    request.signal?.addEventListener('abort', onAbort, { once: true });
    waiter.cleanup = () => {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
    };
  }

  private fail(span: Span, err: Error, sync: true): Error;
  private fail(span: Span, err: Error): Promise<never>;
  private fail(span: Span, err: Error, sync?: true): Error | Promise<never> {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    span.setAttribute('error.type', (err as { code?: string }).code ?? err.name);
    span.end();
    if (!sync) {
      if (err instanceof GpuPoolClosedError) this.instruments.rejected('closed');
      else if (err instanceof GpuUnsatisfiableError) this.instruments.rejected('unsatisfiable');
      else if (err instanceof GpuAbortedError) this.instruments.rejected('aborted');
      return Promise.reject(err);
    }
    return err;
  }

  private demandOf(request: GpuRequest): Demand {
    const bad = (option: string, accepted: string, got: unknown): never => {
      throw new GpuPoolConfigError(`request.${option}`, accepted, got);
    };
    if (request === null || typeof request !== 'object') bad('', 'a request object', request);
    const { memoryMb, count = 1, minComputeCapability, exclusive = false, priority = 0 } = request;
    if (typeof memoryMb !== 'number' || !(memoryMb >= 0) || !Number.isFinite(memoryMb))
      bad('memoryMb', 'a number >= 0', memoryMb);
    if (!Number.isInteger(count) || count < 1) bad('count', 'an integer >= 1', count);
    if (!Number.isFinite(priority)) bad('priority', 'a finite number', priority);
    if (request.timeoutMs !== undefined && !(request.timeoutMs >= 0))
      bad('timeoutMs', 'a number >= 0', request.timeoutMs);
    return { needMb: memoryMb + this.o.overheadMb, count, minComputeCapability, exclusive: exclusive === true };
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const { entry, slots } of this.scheduler.dispatch()) {
      const waiter = entry.payload;
      waiter.cleanup();
      if (this.ledger === undefined) this.grant(waiter, slots);
      else void this.confirm(entry, slots);
    }
    this.instruments.queue(this.scheduler.queue.length);
  }

  /** With a ledger: the local reservation holds while Redis is asked; a refusal puts the request back. */
  private async confirm(entry: Entry<Waiter>, slots: Slot[]): Promise<void> {
    const waiter = entry.payload;
    const id = randomUUID();
    const claim = {
      leaseId: id,
      exclusive: waiter.demand.exclusive,
      devices: slots.map((s) => ({ uuid: s.uuid, totalMb: s.totalMb, needMb: waiter.demand.needMb })),
    };
    let answer;
    try {
      answer = await this.ledger!.reserve(claim);
    } catch (err) {
      this.o.logger.warn('GPU ledger unreachable; request waits', { error: (err as Error).message });
      answer = { ok: false as const, takenMb: {} };
    }
    if (answer.ok && !this.closed) return void this.grant(waiter, slots, id);
    this.scheduler.unreserve(slots, waiter.demand);
    if (answer.ok)
      void this.ledger!.release(
        id,
        claim.devices.map((d) => d.uuid),
      ).catch(() => undefined);
    if (this.closed) return waiter.reject(this.fail(waiter.span, new GpuPoolClosedError(), true));
    for (const s of slots) s.remoteMb = Math.max(s.remoteMb, answer.ok ? 0 : (answer.takenMb[s.uuid] ?? 0));
    const back = this.scheduler.enqueue(waiter.demand, entry.key, waiter);
    this.arm(back, waiter);
    this.instruments.queue(this.scheduler.queue.length);
  }

  private grant(waiter: Waiter, slots: Slot[], id: string = randomUUID()): void {
    const now = this.o.now();
    const waitedMs = Math.max(0, now - waiter.enqueuedAt);
    const controller = new AbortController();
    const uuids = slots.map((s) => s.uuid).join(',');
    const state: LeaseState = {
      slots,
      demand: waiter.demand,
      controller,
      acquiredAt: now,
      released: false,
      lease: {
        id,
        devices: slots.map((s) => s.device),
        env: { CUDA_VISIBLE_DEVICES: uuids, NVIDIA_VISIBLE_DEVICES: uuids },
        memoryMb: waiter.request.memoryMb,
        label: waiter.request.label,
        waitedMs,
        signal: controller.signal,
        release: () => this.release(state),
      },
    };
    this.leases.add(state);
    waiter.span.setAttributes({ 'periscope.gpu.wait_ms': waitedMs, 'periscope.gpu.uuids': slots.map((s) => s.uuid) });
    waiter.span.end();
    this.instruments.acquired(waitedMs / 1000);
    this.instruments.leases(this.leases.size);
    this.instruments.devices(slots);
    // A device that failed while the ledger was asked: the lease starts failed over.
    const sick = slots.find((s) => !s.healthy);
    if (sick) controller.abort(new GpuFailoverError(sick.uuid, this.reasons.get(sick) ?? []));
    waiter.resolve(state.lease);
  }

  private release(state: LeaseState): void {
    if (state.released) return;
    state.released = true;
    this.leases.delete(state);
    this.scheduler.unreserve(state.slots, state.demand);
    if (this.ledger)
      void this.ledger
        .release(
          state.lease.id,
          state.slots.map((s) => s.uuid),
        )
        .catch((err: Error) => {
          this.instruments.discoveryError('ledger');
          this.o.logger.warn('GPU ledger release failed; the entry expires by TTL', { error: err.message });
        });
    this.instruments.leases(this.leases.size);
    this.instruments.devices(state.slots);
    this.dispatch();
  }

  async run<T>(request: GpuRequest, fn: (lease: GpuLease) => Promise<T> | T): Promise<T> {
    let key: number | undefined;
    for (let failovers = 0; ; failovers++) {
      const started = this.o.now();
      const lease = await this.enqueue(request, key);
      key ??= started - (request.priority ?? 0) * this.o.agingMs;
      try {
        return await fn(lease);
      } catch (err) {
        const failedOver = lease.signal.reason instanceof GpuFailoverError;
        if (!failedOver || !this.o.retryOnFailover || failovers >= this.o.maxFailovers || this.closed) throw err;
        this.o.logger.warn('GPU failover: running again on other devices', {
          label: request.label,
          error: (lease.signal.reason as Error).message,
        });
      } finally {
        lease.release();
      }
    }
  }

  pollHealth(): Promise<void> {
    this.polling ??= this.poll().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async poll(): Promise<void> {
    await this.ready;
    if (this.closed || this.discovery === undefined) return;
    let fresh: GpuDevice[] | undefined;
    try {
      fresh =
        this.source === 'nvidia-smi'
          ? await this.discovery.queryNvidiaSmi(this.closing.signal)
          : (await this.discovery.discover(true)).devices;
      this.queryFailures = 0;
    } catch (err) {
      if (this.closed) return;
      this.queryFailures++;
      this.instruments.discoveryError((err as { reason?: string }).reason ?? 'exit');
      this.o.logger.warn('GPU health query failed', { error: (err as Error).message, failures: this.queryFailures });
    }
    if (this.closed) return;
    const byUuid = new Map((fresh ?? []).map((d) => [d.uuid, d]));
    for (const s of this.scheduler.slots) {
      const d = byUuid.get(s.uuid);
      let reasons: string[];
      if (fresh === undefined) reasons = this.queryFailures >= this.o.health.failureThreshold ? ['query failed'] : [];
      else if (d === undefined) reasons = ['missing from nvidia-smi'];
      else {
        this.measure(s, d);
        reasons = unhealthyReasons(d, this.o.health);
      }
      if (fresh === undefined && reasons.length === 0) continue; // not yet past the threshold
      this.judge(s, reasons);
    }
    this.instruments.devices(this.scheduler.slots);
    this.dispatch();
  }

  private judge(s: Slot, reasons: string[]): void {
    if (reasons.length > 0) {
      this.streaks.set(s, 0);
      this.reasons.set(s, reasons);
      if (s.healthy) this.failover(s, reasons);
      return;
    }
    if (s.healthy) return;
    const streak = (this.streaks.get(s) ?? 0) + 1;
    this.streaks.set(s, streak);
    if (streak >= this.o.health.recoverAfter) {
      s.healthy = true;
      this.reasons.delete(s);
      this.o.logger.info('GPU healthy again', { uuid: s.uuid });
      this.onEvent({ type: 'recovered', uuid: s.uuid });
    }
  }

  private failover(s: Slot, reasons: string[]): void {
    s.healthy = false;
    this.instruments.failover(s.uuid);
    this.o.logger.warn('GPU unhealthy: no new leases, current leases signalled', { uuid: s.uuid, reasons });
    this.onEvent({ type: 'failover', uuid: s.uuid, reasons });
    for (const l of this.leases)
      if (l.slots.includes(s) && !l.controller.signal.aborted)
        l.controller.abort(new GpuFailoverError(s.uuid, reasons));
  }

  /** Takes a device's new readings; memory in use beyond our reservations counts as taken. */
  private measure(s: Slot, d: GpuDevice): void {
    s.device = d;
    if (!this.o.reconcile || d.source === 'simulated' || d.source === 'static') return;
    const used = d.memoryFreeMb !== undefined ? s.totalMb - d.memoryFreeMb : d.memoryUsedMb;
    if (used === undefined) return;
    s.externalMb = Math.max(0, used - s.reservedMb);
    if (s.leases > 0 && used > s.reservedMb * 1.05 + 512 && s.externalMb > 0) {
      this.instruments.overcommit(s.uuid);
      this.o.logger.warn('GPU memory in use exceeds what its leases reserved', {
        uuid: s.uuid,
        usedMb: used,
        reservedMb: s.reservedMb,
      });
      this.onEvent({ type: 'overcommit', uuid: s.uuid, usedMb: used, reservedMb: s.reservedMb });
    }
  }

  private async refreshRemote(): Promise<void> {
    if (this.closed || this.ledger === undefined) return;
    try {
      const taken = await this.ledger.othersMb(this.scheduler.slots.map((s) => s.uuid));
      for (const s of this.scheduler.slots) s.remoteMb = taken[s.uuid] ?? 0;
    } catch (err) {
      this.instruments.discoveryError('ledger');
      this.o.logger.warn('GPU ledger unreachable', { error: (err as Error).message });
    }
    this.dispatch();
  }

  status(): GpuPoolStatus {
    const now = this.o.now();
    const q = this.scheduler.queue;
    return {
      source: this.source,
      strategy: this.o.strategy,
      devices: this.scheduler.slots.map((s) => ({
        uuid: s.uuid,
        index: s.device.index,
        name: s.device.name,
        source: s.device.source,
        healthy: s.healthy,
        reasons: this.reasons.get(s) ?? [],
        totalMb: s.totalMb,
        reservedMb: s.reservedMb,
        freeMb: Math.max(0, free(s)),
        leases: s.leases,
        utilizationGpu: s.device.utilizationGpu,
        temperatureC: s.device.temperatureC,
      })),
      leases: [...this.leases].map((l) => ({
        id: l.lease.id,
        uuids: l.slots.map((s) => s.uuid),
        memoryMb: l.lease.memoryMb,
        label: l.lease.label,
        heldMs: now - l.acquiredAt,
      })),
      queue: {
        depth: q.length,
        oldestWaitMs: q.reduce((m, e) => Math.max(m, now - e.payload.enqueuedAt), 0),
        head: q.slice(0, 10).map((e) => ({
          label: e.payload.request.label,
          memoryMb: e.payload.request.memoryMb,
          count: e.demand.count,
          waitedMs: now - e.payload.enqueuedAt,
        })),
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.closing.abort();
    for (const e of this.scheduler.queue.splice(0)) {
      e.payload.cleanup();
      this.instruments.rejected('closed');
      e.payload.reject(this.fail(e.payload.span, new GpuPoolClosedError(), true));
    }
    this.instruments.queue(0);
    const held = [...this.leases];
    for (const l of held) l.controller.abort(new GpuPoolClosedError());
    if (this.ledger) {
      await Promise.allSettled(
        held.map((l) =>
          this.ledger!.release(
            l.lease.id,
            l.slots.map((s) => s.uuid),
          ),
        ),
      );
      await this.ledger.close();
    }
    await this.polling?.catch(() => undefined);
  }
}

function describe(r: GpuRequest, overheadMb: number): string {
  const count = r.count ?? 1;
  const cc = r.minComputeCapability !== undefined ? ` with compute capability >= ${r.minComputeCapability}` : '';
  const oh = overheadMb > 0 ? ` (+${overheadMb} MiB overhead)` : '';
  return `${count} GPU${count > 1 ? 's' : ''} with ${r.memoryMb} MiB${oh}${cc}${r.exclusive ? ', exclusive' : ''}`;
}
