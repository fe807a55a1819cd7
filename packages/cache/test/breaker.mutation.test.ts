// Issue 21 (mutation testing): one breaker per Redis node, the worst state reported to the cache.
// A dead master opens its own breaker only; the cache's breaker state is the worst across nodes.
import { BreakerSet } from '../src/breaker';
import type { BreakerState } from '../src';

function breakers(failureThreshold = 2, resetMs = 100) {
  const changes: BreakerState[] = [];
  const set = new BreakerSet({ failureThreshold, resetMs }, (s) => changes.push(s));
  return { set, changes };
}

describe('BreakerSet', () => {
  it('a failing node opens its own breaker only; the set reports the worst state, once per change', () => {
    const { set, changes } = breakers();
    expect(set.state).toBe('closed');
    expect(set.openNodes).toBe(0);
    set.for('a:6379').failure(0);
    expect(set.state).toBe('closed');
    set.for('a:6379').failure(0); // consecutive failures on one node add up
    expect(set.state).toBe('open');
    expect(set.openNodes).toBe(1);
    expect(set.for('a:6379').allow(0)).toBe(false);
    expect(set.for('b:6379').allow(0)).toBe(true);
    // b failing once and succeeding changes nothing the cache sees.
    set.for('b:6379').failure(0);
    set.for('b:6379').success();
    expect(changes).toEqual(['open']);

    // a's probe: half-open is the worst while b stays closed.
    expect(set.for('a:6379').allow(100)).toBe(true);
    expect(set.state).toBe('half_open');
    expect(set.openNodes).toBe(0);
    // b opens: open outranks half-open.
    set.for('b:6379').failure(100);
    set.for('b:6379').failure(100);
    expect(set.state).toBe('open');
    expect(set.openNodes).toBe(1);
    // a's probe succeeds: b still open, so no change is reported.
    set.for('a:6379').success();
    expect(set.state).toBe('open');
    expect(changes).toEqual(['open', 'half_open', 'open']);
  });

  it('successAll (reconnected) closes every node and reports closed once', () => {
    const { set, changes } = breakers(1);
    set.for('a').failure(0);
    set.for('b').failure(0);
    expect(set.openNodes).toBe(2);
    set.successAll();
    expect(set.openNodes).toBe(0);
    expect(set.state).toBe('closed');
    expect(set.for('a').allow(0)).toBe(true);
    expect(set.for('b').allow(0)).toBe(true);
    expect(changes).toEqual(['open', 'closed']);
  });

  it("a node's consecutive failures keep counting while other nodes appear", () => {
    const { set } = breakers(3);
    set.for('a').failure(0);
    set.for('b').success();
    set.for('a').failure(0);
    set.for('c').failure(0);
    set.for('a').failure(0);
    expect(set.openNodes).toBe(1);
    expect(set.for('a').allow(0)).toBe(false);
  });

  it('an open node stays open while thousands of other nodes come and go (failovers)', () => {
    const { set } = breakers(1, 60_000);
    set.for('dead').failure(0);
    for (let i = 0; i < 3000; i++) set.for(`node-${i}`).success();
    expect(set.openNodes).toBe(1);
    expect(set.state).toBe('open');
    expect(set.for('dead').allow(1)).toBe(false);
  });
});
