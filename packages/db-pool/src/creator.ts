// Opens connections one at a time, as HikariCP's single "connection adder" does. generic-pool asks
// for a connection per unserved waiter at once; here each request is only attempted when it is
// still needed at its turn (a released connection or an earlier creation may already have served
// the waiter), which keeps a spike from opening a connection per caller. While the database
// refuses, requests stay queued and attempts back off exponentially instead of spinning.
import { PoolClosedError } from './errors';

export interface CreatorOptions<T> {
  open(): Promise<T>;
  /** Still worth opening a connection now? (waiters unserved, or fewer than poolSize open) */
  needed(): boolean;
  backoffMs: number;
  backoffMaxMs: number;
  onAttemptFailed(err: unknown, failures: number, delayMs: number): void;
  onRecovered(failures: number): void;
  /** A connection opened after every request was dropped (the pool closed meanwhile): close it. */
  onOrphan(value: T): void;
}

/** Rejection for a request that became unnecessary before its turn; not an error to report. */
export class NotNeeded extends Error {
  constructor() {
    super('connection no longer needed');
    this.name = 'NotNeeded';
  }
}

interface Request<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

export class ConnectionCreator<T> {
  private readonly queue: Request<T>[] = [];
  private inFlight = false;
  private failures = 0;
  private nextAttemptAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The last connection error since the last success (cause of acquire timeouts). */
  lastError: unknown;
  /** Connection attempts made (successful or not). */
  attempts = 0;

  constructor(private readonly options: CreatorOptions<T>) {}

  get queued(): number {
    return this.queue.length;
  }
  get creating(): number {
    return this.inFlight ? 1 : 0;
  }
  get failing(): boolean {
    return this.failures > 0;
  }

  create(): Promise<T> {
    if (this.closed) return Promise.reject(new PoolClosedError());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.pump();
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const r of this.queue.splice(0)) r.reject(new PoolClosedError());
  }

  private pump(): void {
    while (!this.inFlight && this.queue.length > 0 && !this.closed) {
      const wait = this.nextAttemptAt - Date.now();
      if (wait > 0) {
        if (!this.timer) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, wait);
          this.timer.unref();
        }
        return;
      }
      if (!this.options.needed()) {
        this.queue.shift()!.reject(new NotNeeded());
        continue;
      }
      this.attempt();
    }
  }

  private attempt(): void {
    this.inFlight = true;
    this.attempts++;
    this.options.open().then(
      (value) => {
        this.inFlight = false;
        if (this.failures > 0) this.options.onRecovered(this.failures);
        this.failures = 0;
        this.nextAttemptAt = 0;
        this.lastError = undefined;
        const request = this.queue.shift();
        if (request) request.resolve(value);
        else this.options.onOrphan(value);
        this.pump();
      },
      (err: unknown) => {
        this.inFlight = false;
        this.failures++;
        this.lastError = err;
        // Exponential backoff with ±20 % jitter; the request stays queued and is retried.
        const base = Math.min(this.options.backoffMaxMs, this.options.backoffMs * 2 ** Math.min(this.failures - 1, 20));
        const delay = Math.round(base * (0.8 + Math.random() * 0.4));
        this.nextAttemptAt = Date.now() + delay;
        this.options.onAttemptFailed(err, this.failures, delay);
        this.pump();
      },
    );
  }
}
