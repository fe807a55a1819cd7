// Issue 21 (mutation testing): the acquire-deadline list stays bounded and leaves nothing armed,
// on fake timers.
import { DeadlineError, WaitDeadlines } from '../src/waiters';
import type { WaitingRequest } from '../src/internals';

class FakeRequest implements WaitingRequest {
  state = 'PENDING';
  error: unknown;
  resolve(): void {
    this.state = 'FULFILLED';
  }
  reject(err: unknown): void {
    if (this.state !== 'PENDING') return;
    this.state = 'REJECTED';
    this.error = err;
  }
}

/** The list's length (private): what the memory bound is about. */
const listed = (d: WaitDeadlines) => (d as unknown as { requests: unknown[] }).requests.length;

beforeEach(() => {
  jest.useFakeTimers({ now: 0 });
});
afterEach(() => {
  jest.useRealTimers();
});

test('clear() disarms the timer at once', () => {
  const d = new WaitDeadlines(500);
  d.add(new FakeRequest());
  expect(jest.getTimerCount()).toBe(1);
  d.clear();
  expect(jest.getTimerCount()).toBe(0);
  expect(listed(d)).toBe(0);
});

test('the rejection says why, under the name generic-pool looks for', () => {
  const d = new WaitDeadlines(100);
  const r = new FakeRequest();
  d.add(r);
  jest.advanceTimersByTime(101);
  expect(r.error).toBeInstanceOf(DeadlineError);
  expect((r.error as Error).message).toBe('no connection within the acquire timeout');
});

test('served waiters are forgotten: the list empties when everyone is served, and after the last deadline', () => {
  const d = new WaitDeadlines(1000);
  const first = Array.from({ length: 10 }, () => new FakeRequest());
  for (const r of first) d.add(r);
  for (const r of first) r.resolve();
  const next = new FakeRequest();
  d.add(next);
  expect(listed(d)).toBe(1);
  jest.advanceTimersByTime(1001);
  expect(next.state).toBe('REJECTED');
  expect(listed(d)).toBe(0);
  expect(jest.getTimerCount()).toBe(0);
});

test('behind one long waiter, thousands of served requests are compacted away, and deadlines still hold', () => {
  const d = new WaitDeadlines(10_000);
  const long = new FakeRequest();
  d.add(long);
  let max = 0;
  const recent: FakeRequest[] = [];
  for (let i = 0; i < 6000; i++) {
    const r = new FakeRequest();
    d.add(r);
    recent.push(r);
    if (recent.length > 3) recent.shift()!.resolve();
    max = Math.max(max, listed(d));
  }
  // Without compaction the list would hold all 6001.
  expect(max).toBeLessThanOrEqual(2 * 5 + 1024 + 2);
  expect(listed(d)).toBeLessThan(1100);
  jest.advanceTimersByTime(10_001);
  expect(long.state).toBe('REJECTED');
  expect(recent.every((r) => r.state === 'REJECTED')).toBe(true);
  expect(jest.getTimerCount()).toBe(0);
});
