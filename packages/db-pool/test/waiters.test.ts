// The acquire deadlines of waiting callers, on fake timers: each waiter gets the full
// acquireTimeoutMs from when it started waiting, served waiters never time out, and one timer
// serves them all.
import { DeadlineError, WaitDeadlines } from '../src/waiters';
import type { WaitingRequest } from '../src/internals';

class FakeRequest implements WaitingRequest {
  state = 'PENDING';
  rejectedAt: number | undefined;
  error: unknown;
  resolve(): void {
    this.state = 'FULFILLED';
  }
  reject(err: unknown): void {
    if (this.state !== 'PENDING') return;
    this.state = 'REJECTED';
    this.error = err;
    this.rejectedAt = Date.now();
  }
}

beforeEach(() => {
  jest.useFakeTimers({ now: 0 });
});
afterEach(() => {
  jest.useRealTimers();
});

test('each waiter times out acquireTimeoutMs after it started waiting, in arrival order', () => {
  const deadlines = new WaitDeadlines(200);
  const first = new FakeRequest();
  const second = new FakeRequest();
  deadlines.add(first);
  jest.advanceTimersByTime(100);
  deadlines.add(second);
  jest.advanceTimersByTime(99);
  expect(first.state).toBe('PENDING');
  jest.advanceTimersByTime(2);
  expect(first.state).toBe('REJECTED');
  expect(first.error).toBeInstanceOf(DeadlineError);
  expect((first.error as Error).name).toBe('TimeoutError'); // what generic-pool's queue drops
  expect(second.state).toBe('PENDING'); // its own full 200 ms, not what was left of the first's
  jest.advanceTimersByTime(98);
  expect(second.state).toBe('PENDING');
  jest.advanceTimersByTime(3);
  expect(second.state).toBe('REJECTED');
  expect(second.rejectedAt! - 100).toBeGreaterThanOrEqual(200);
  expect(jest.getTimerCount()).toBe(0); // nothing left armed
});

test('a waiter served in time is never rejected later, and a later waiter still times out', () => {
  const deadlines = new WaitDeadlines(200);
  const served = new FakeRequest();
  const late = new FakeRequest();
  deadlines.add(served);
  jest.advanceTimersByTime(50);
  deadlines.add(late);
  served.resolve();
  jest.advanceTimersByTime(1000);
  expect(served.state).toBe('FULFILLED');
  expect(late.state).toBe('REJECTED');
  expect(late.rejectedAt).toBeGreaterThanOrEqual(250);
});

test('one timer for many waiters; clear() stops it and rejects nobody', () => {
  const deadlines = new WaitDeadlines(500);
  const requests = Array.from({ length: 50 }, () => new FakeRequest());
  for (const r of requests) deadlines.add(r);
  expect(jest.getTimerCount()).toBe(1);
  deadlines.clear();
  jest.advanceTimersByTime(10_000);
  expect(requests.every((r) => r.state === 'PENDING')).toBe(true);
  expect(jest.getTimerCount()).toBe(0);
});
