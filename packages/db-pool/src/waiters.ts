// Waiting for a connection: one caller's acquire in progress, and the acquire deadlines of the
// callers that really wait (one timer for all of them). The global `performance` clock, so fake
// timers drive it in tests.
import type { Holder } from './conn';
import type { WaitingRequest } from './internals';

/** One caller's acquire in progress. */
export class Borrow {
  replaced = 0;
  constructor(
    readonly signal: AbortSignal | undefined,
    readonly priority: number | undefined,
    readonly holder: Holder | undefined,
    readonly started: number,
  ) {}
}

/** The acquire time ran out (the name is what generic-pool's queue and acquireError() look for). */
export class DeadlineError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * The acquire timeout of waiting callers: one timer, armed for the oldest waiter, rather than a
 * timer per waiter (all wait the same acquireTimeoutMs, so deadlines come in arrival order).
 * Served requests are dropped from the front as new ones come, and the list is compacted when
 * they pile up behind a long waiter (a low priority one, say).
 */
export class WaitDeadlines {
  private requests: WaitingRequest[] = [];
  private deadlines: number[] = [];
  private head = 0;
  /** Waiting requests after the last compaction; the next one comes after as many more + 1024. */
  private live = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  constructor(private readonly timeoutMs: number) {}

  add(request: WaitingRequest): void {
    const requests = this.requests;
    while (this.head < requests.length && requests[this.head].state !== 'PENDING') this.head++;
    if (this.head === requests.length) this.reset();
    else if (requests.length - this.head > 2 * this.live + 1024) this.compact();
    requests.push(request);
    this.deadlines.push(performance.now() + this.timeoutMs);
    // No timer means no one else is waiting: this request has the earliest deadline.
    if (this.timer === undefined) this.arm(this.timeoutMs);
  }

  /** Stops the timer and forgets every request (close() rejects the waiters itself). */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.reset();
  }

  private arm(ms: number): void {
    this.timer = setTimeout(WaitDeadlines.fired, Math.max(1, Math.ceil(ms)), this);
  }

  private static fired(self: WaitDeadlines): void {
    self.timer = undefined;
    const { requests, deadlines } = self;
    const now = performance.now();
    let i = self.head;
    for (; i < requests.length; i++) {
      const request = requests[i];
      if (request.state !== 'PENDING') continue;
      // Timers fire on the loop's cached clock, so up to a millisecond before the deadline.
      if (deadlines[i] - now > 1) break;
      request.reject(new DeadlineError('no connection within the acquire timeout'));
    }
    self.head = i;
    if (i < requests.length) self.arm(deadlines[i] - now);
    else self.reset();
  }

  private reset(): void {
    this.requests.length = 0;
    this.deadlines.length = 0;
    this.head = 0;
    this.live = 0;
  }

  private compact(): void {
    const requests: WaitingRequest[] = [];
    const deadlines: number[] = [];
    for (let i = this.head; i < this.requests.length; i++) {
      if (this.requests[i].state !== 'PENDING') continue;
      requests.push(this.requests[i]);
      deadlines.push(this.deadlines[i]);
    }
    this.requests = requests;
    this.deadlines = deadlines;
    this.head = 0;
    this.live = requests.length;
  }
}
