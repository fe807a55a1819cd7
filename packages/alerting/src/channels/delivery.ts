// A channel's outbox: a bounded queue drained one item at a time, each retried with exponential
// backoff. Evaluation only enqueues (never waits); a full queue drops its oldest item, and every
// failure and drop is counted, so a dead receiver costs memory bounded by `maxQueue`, not time.
import type { Logger } from '@periscope/core';
import type { AlertingInstruments } from '../instrumentation';

export interface DeliveryOptions {
  /** Attempts after the first. Default 3. */
  retries?: number;
  /** First retry delay; doubled each time (with ±20 % jitter). Default 500 ms. */
  backoffMs?: number;
  /** Items waiting at most; the oldest is dropped beyond. Default 100. */
  maxQueue?: number;
}

export interface DeliveryStats {
  sent: number;
  failed: number;
  retried: number;
  dropped: number;
  queued: number;
  lastError?: string;
}

export class Delivery<T> {
  private readonly queue: T[] = [];
  private running = false;
  private closed = false;
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private idle: Array<() => void> = [];
  private readonly abort = new AbortController();
  readonly stats: DeliveryStats = { sent: 0, failed: 0, retried: 0, dropped: 0, queued: 0 };
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxQueue: number;

  constructor(
    readonly channel: string,
    private readonly send: (item: T, signal: AbortSignal) => Promise<void>,
    options: DeliveryOptions,
    private readonly instruments: AlertingInstruments,
    private readonly logger: Logger,
  ) {
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxQueue = options.maxQueue ?? 100;
  }

  enqueue(item: T): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.stats.dropped++;
      this.instruments.delivery(this.channel, 'dropped');
    }
    this.queue.push(item);
    this.stats.queued = this.queue.length;
    if (!this.running) void this.pump();
  }

  /** Replaces queued items that `same` says are superseded by `item` (e.g. a newer Alertmanager sync). */
  replace(item: T, same: (queued: T) => boolean): void {
    for (let i = this.queue.length - 1; i >= 0; i--) if (same(this.queue[i])) this.queue.splice(i, 1);
    this.enqueue(item);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      t.unref();
      this.timers.set(t, resolve);
    });
  }

  private async attempt(item: T): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.send(item, this.abort.signal);
        this.stats.sent++;
        this.instruments.delivery(this.channel, 'sent');
        return;
      } catch (err) {
        this.stats.lastError = (err as Error).message;
        if (attempt >= this.retries || this.abort.signal.aborted) {
          this.stats.failed++;
          this.instruments.delivery(this.channel, 'failed');
          this.logger.warn('alert notification failed', { channel: this.channel, error: (err as Error).message });
          return;
        }
        this.stats.retried++;
        this.instruments.delivery(this.channel, 'retried');
        const jitter = 0.8 + Math.random() * 0.4;
        await this.sleep(this.backoffMs * 2 ** attempt * jitter);
        if (this.abort.signal.aborted) {
          this.stats.failed++;
          this.instruments.delivery(this.channel, 'failed');
          return;
        }
      }
    }
  }

  private async pump(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const item = this.queue.shift() as T;
      this.stats.queued = this.queue.length;
      await this.attempt(item);
    }
    this.running = false;
    for (const w of this.idle.splice(0)) w();
  }

  /** Resolves when the queue is empty (or at once when idle). */
  drained(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Waits up to `timeoutMs` for the queue to drain, then aborts what is left. Idempotent. */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return this.drained();
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drained(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    const left = this.queue.length;
    this.queue.length = 0;
    this.stats.dropped += left;
    this.abort.abort();
    for (const [t, wake] of this.timers) {
      clearTimeout(t);
      wake();
    }
    this.timers.clear();
    for (const w of this.idle.splice(0)) w();
  }
}
