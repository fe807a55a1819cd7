// The L2 circuit breaker: opens on exactly the failureThreshold-th consecutive failure, admits one
// probe after resetMs (injected clock), and closes or re-opens on that probe's outcome.
import { redisUrl, TcpFaultProxy } from '@periscope-tools/testing';
import { CircuitBreaker } from '../src/breaker';
import type { BreakerState } from '../src';
import { Fixture, eventually, uniqueNs } from './helpers';

function breaker(failureThreshold: number, resetMs = 1000) {
  const changes: BreakerState[] = [];
  const b = new CircuitBreaker({ failureThreshold, resetMs }, (s) => changes.push(s));
  return { b, changes };
}

describe('CircuitBreaker', () => {
  it.each([1, 2, 3, 5, 10])('threshold %i: stays closed after threshold-1 failures, opens on the threshold-th', (n) => {
    const { b, changes } = breaker(n);
    for (let i = 0; i < n - 1; i++) {
      b.failure(0);
      expect(b.state).toBe('closed');
      expect(b.allow(0)).toBe(true);
    }
    b.failure(0);
    expect(b.state).toBe('open');
    expect(b.allow(0)).toBe(false);
    expect(changes).toEqual(['open']);
  });

  it('a success resets the count: failures must be consecutive', () => {
    const { b } = breaker(3);
    b.failure(0);
    b.failure(0);
    b.success();
    b.failure(0);
    b.failure(0);
    expect(b.state).toBe('closed');
    b.failure(0);
    expect(b.state).toBe('open');
  });

  it('after resetMs admits exactly one probe; a failed probe re-opens, a good one closes', () => {
    const { b, changes } = breaker(2, 100);
    b.failure(1000);
    b.failure(1000);
    expect(b.allow(1099)).toBe(false);
    expect(b.allow(1100)).toBe(true); // the probe
    expect(b.state).toBe('half_open');
    expect(b.allow(1100)).toBe(false); // only one
    b.failure(1100);
    expect(b.state).toBe('open');
    expect(b.allow(1199)).toBe(false);
    expect(b.allow(1200)).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allow(1200)).toBe(true);
    expect(changes).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });
});

describe('the breaker inside the cache', () => {
  const fx = new Fixture();
  let proxy: TcpFaultProxy;
  beforeEach(async () => {
    const u = new URL(redisUrl());
    proxy = await TcpFaultProxy.start({ target: { host: u.hostname, port: Number(u.port || 6379) } });
  });
  afterEach(async () => {
    await fx.dispose();
    await proxy.close();
  });

  it('with failureThreshold 3, the third failed L2 read opens it, not the fourth', async () => {
    const cache = fx.cache({
      namespace: uniqueNs('brk'),
      l2: {
        url: proxy.urlFor(redisUrl()),
        // Generous: the warm-up write must not time out on a loaded machine (a timeout is a
        // failure too); the reads below fail fast on the cut connection anyway.
        timeoutMs: 5_000,
        breaker: { failureThreshold: 3, resetMs: 60_000 },
        reconnectMaxDelayMs: 5_000,
        bus: false,
      },
    });
    await cache.set('warm', 1); // connected
    expect(cache.stats().l2!.errors).toBe(0);
    proxy.refuse();
    proxy.cutAll();
    expect(await eventually(() => !cache.stats().l2!.connected)).toBe(true);
    const errors = () => cache.stats().l2!.errors;
    const base = errors();
    await cache.get('a');
    await cache.get('b');
    expect(cache.stats().l2!.breaker).toBe('closed');
    await cache.get('c');
    expect(cache.stats().l2!.breaker).toBe('open');
    const counted = errors();
    expect(counted).toBeGreaterThanOrEqual(base + 3);
    await cache.get('d'); // fails fast on the open breaker
    expect(cache.stats().l2!.breaker).toBe('open');
  });
});
