// Issue 21 (mutation testing): the invalidation bus as peers see it: the exact messages it sends
// (and how long lists are split), the exact edges of what it accepts, which handler each op
// reaches, when a sender's sequence means a purge, and purges on a real reconnect to Redis.
import { Redis } from 'ioredis';
import { redisUrl, TcpFaultProxy } from '@periscope-tools/testing';
import { BUS_VERSION, MAX_BUS_MESSAGE_BYTES } from '../src';
import { InvalidationBus, parseBusMessage, type BusOptions } from '../src/bus';
import { CacheCounters } from '../src/instrumentation';
import { Fixture, eventually, uniqueNs } from './helpers';

const fx = new Fixture();
afterEach(() => fx.dispose());

const NS = 'ns';
const msg = (extra: Record<string, unknown> = {}) => ({
  v: BUS_VERSION,
  origin: 'peer',
  seq: 1,
  op: 'delete',
  namespace: NS,
  keys: ['k'],
  ...extra,
});
const text = (extra: Record<string, unknown> = {}) => JSON.stringify(msg(extra));

/** A bus whose sends and handler calls are recorded; its subscriber points at a closed port unless told. */
function bus(extra: Partial<BusOptions> = {}) {
  const counters = new CacheCounters(NS);
  const sent: Record<string, unknown>[] = [];
  const calls: [string, unknown?][] = [];
  const b = new InvalidationBus({
    namespace: NS,
    channel: 'unused',
    source: { target: { kind: 'single', url: 'redis://127.0.0.1:1' } },
    reconnect: { reconnectMaxDelayMs: 50, socketTimeoutMs: 100 },
    publishRaw: async (m) => void sent.push(JSON.parse(m) as Record<string, unknown>),
    handlers: {
      onKeys: (keys) => void calls.push(['keys', keys]),
      onTags: (tags) => void calls.push(['tags', tags]),
      onClear: () => void calls.push(['clear']),
      onPurge: (reason) => void calls.push(['purge', reason]),
    },
    counters,
    ...extra,
  });
  fx.onCleanup(() => b.close());
  return { b, counters, sent, calls };
}

describe('parseBusMessage edges', () => {
  it('keeps exactly the fields of its op, nothing else', () => {
    expect(parseBusMessage(text({ extra: 1, tags: ['t'] }), NS)).toEqual(msg());
    expect(parseBusMessage(text({ op: 'set' }), NS)).toEqual(msg({ op: 'set' }));
    expect(parseBusMessage(text({ op: 'deleteByTag', tags: ['t'] }), NS)).toEqual({
      v: 1,
      origin: 'peer',
      seq: 1,
      op: 'deleteByTag',
      namespace: NS,
      tags: ['t'],
    });
    expect(parseBusMessage(text({ op: 'clear' }), NS)).toEqual({
      v: 1,
      origin: 'peer',
      seq: 1,
      op: 'clear',
      namespace: NS,
    });
  });

  it('text up to MAX_BUS_MESSAGE_BYTES is read; one character more is not', () => {
    const base = text({ keys: [''] }).length - 2; // without the key's quotes' content
    const fill = (n: number) => text({ keys: ['x'.repeat(n - base - 2)] });
    expect(fill(MAX_BUS_MESSAGE_BYTES)).toHaveLength(MAX_BUS_MESSAGE_BYTES);
    expect(parseBusMessage(fill(MAX_BUS_MESSAGE_BYTES), NS)?.keys?.[0]).toHaveLength(MAX_BUS_MESSAGE_BYTES - base - 2);
    expect(parseBusMessage(fill(MAX_BUS_MESSAGE_BYTES + 1), NS)).toBeUndefined();
  });

  it.each([
    ['origin of 128 characters', { origin: 'o'.repeat(128) }, true],
    ['origin of 129 characters', { origin: 'o'.repeat(129) }, false],
    ['empty origin', { origin: '' }, false],
    ['seq 1', { seq: 1 }, true],
    ['seq 0', { seq: 0 }, false],
    ['seq -1', { seq: -1 }, false],
    ['seq as text', { seq: '2' }, false],
    ['seq past the safe integers', { seq: 2 ** 53 }, false],
    ['v as text', { v: '1' }, false],
    ['op that is not text', { op: 1 }, false],
    ['an empty key list', { keys: [] }, true],
    ['an empty key', { keys: ['a', ''] }, false],
    ['set without keys', { op: 'set', keys: undefined }, false],
    ['deleteByTag with an empty tag', { op: 'deleteByTag', tags: [''] }, false],
    ['deleteByTag with tags of the wrong type', { op: 'deleteByTag', tags: 't' }, false],
    ['clear without keys', { op: 'clear', keys: undefined }, true],
  ])('%s: accepted = %s', (_what, extra, ok) => {
    expect(parseBusMessage(text(extra), NS) !== undefined).toBe(ok);
  });

  it('only text is parsed', () => {
    expect(parseBusMessage(Buffer.from(text()), NS)).toBeUndefined();
    expect(parseBusMessage(msg(), NS)).toBeUndefined();
  });
});

describe('publish', () => {
  it('sends one versioned message per op, numbered from 1 by this origin, and counts it', async () => {
    const { b, counters, sent } = bus();
    await b.publish('delete', { keys: ['a', 'b'] });
    await b.publish('deleteByTag', { tags: ['t'] });
    await b.publish('clear');
    expect(sent).toEqual([
      { v: 1, origin: b.origin, seq: 1, op: 'delete', namespace: NS, keys: ['a', 'b'] },
      { v: 1, origin: b.origin, seq: 2, op: 'deleteByTag', namespace: NS, tags: ['t'] },
      { v: 1, origin: b.origin, seq: 3, op: 'clear', namespace: NS },
    ]);
    expect(counters.bus.published).toBe(3);
  });

  it('a failed send is counted and still uses up its number, so peers see the gap', async () => {
    let fail = true;
    const sent: number[] = [];
    const { b, counters } = bus({
      publishRaw: async (m) => {
        if (fail) throw new Error('L2 down');
        sent.push((JSON.parse(m) as { seq: number }).seq);
      },
    });
    await b.publish('clear');
    fail = false;
    await b.publish('clear');
    expect(sent).toEqual([2]);
    expect([counters.bus.publishFailed, counters.bus.published]).toEqual([1, 1]);
  });

  it('a long key list goes out in order, in messages of at most half the limit, each one readable', async () => {
    const { b, sent } = bus();
    const keys = Array.from({ length: 3000 }, (_, i) => `key-${i}-${'é'.repeat(40)}`);
    await b.publish('set', { keys });
    expect(sent.length).toBeGreaterThan(1);
    const half = MAX_BUS_MESSAGE_BYTES / 2;
    for (const m of sent) {
      const list = m.keys as string[];
      // What the splitter budgets per key: its JSON size plus a separator.
      expect(list.reduce((n, k) => n + Buffer.byteLength(JSON.stringify(k)) + 1, 0)).toBeLessThanOrEqual(half);
      expect(parseBusMessage(JSON.stringify(m), NS)).toBeDefined();
      expect(m.tags).toBeUndefined();
    }
    // Full messages: the next key would not have fitted.
    for (let i = 0; i < sent.length - 1; i++) {
      const list = sent[i].keys as string[];
      const next = (sent[i + 1].keys as string[])[0];
      const used = list.reduce((n, k) => n + Buffer.byteLength(JSON.stringify(k)) + 1, 0);
      expect(used + Buffer.byteLength(JSON.stringify(next)) + 1).toBeGreaterThan(half);
    }
    expect(sent.flatMap((m) => m.keys as string[])).toEqual(keys);
    expect(sent.map((m) => m.seq)).toEqual(sent.map((_, i) => i + 1));
  });

  it('a long tag list is split the same way, as tags', async () => {
    const { b, sent } = bus();
    const tags = Array.from({ length: 2000 }, (_, i) => `tag-${i}-${'t'.repeat(100)}`);
    await b.publish('deleteByTag', { tags });
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.every((m) => m.keys === undefined && m.op === 'deleteByTag')).toBe(true);
    expect(sent.flatMap((m) => m.tags as string[])).toEqual(tags);
  });

  it('two keys too big for one message go out in two; a single huge key goes out whole', async () => {
    const { b, sent } = bus();
    const big = MAX_BUS_MESSAGE_BYTES / 2 - 100;
    await b.publish('delete', { keys: ['a'.repeat(big), 'b'.repeat(big)] });
    expect(sent.map((m) => m.keys)).toEqual([['a'.repeat(big)], ['b'.repeat(big)]]);
    await b.publish('delete', { keys: ['c'.repeat(MAX_BUS_MESSAGE_BYTES), 'd'] });
    expect(sent.slice(2).map((m) => m.keys)).toEqual([['c'.repeat(MAX_BUS_MESSAGE_BYTES)], ['d']]);
    await b.publish('delete', { keys: ['e'.repeat(MAX_BUS_MESSAGE_BYTES)] });
    expect(sent.slice(4).map((m) => m.keys)).toEqual([['e'.repeat(MAX_BUS_MESSAGE_BYTES)]]);
  });
});

describe('publish: splitting by real size', () => {
  it('keys that JSON-escape to 6 bytes a character are split by their real size, never sent oversize', async () => {
    const { b, sent } = bus();
    const k = (c: string) => c.repeat(30_000); // 180 KB of JSON each
    await b.publish('delete', { keys: [k('\u0001'), k('\u0002')] });
    expect(sent.map((m) => m.keys)).toEqual([[k('\u0001')], [k('\u0002')]]);
    for (const m of sent) expect(parseBusMessage(JSON.stringify(m), NS)).toBeDefined();
  });

  it('keys that fill exactly half the limit share one message', async () => {
    const { b, sent } = bus();
    const half = MAX_BUS_MESSAGE_BYTES / 2;
    const key = (c: string) => c.repeat(half / 2 - 3); // JSON quotes plus a separator: half / 2 each
    await b.publish('delete', { keys: [key('a'), key('b')] });
    expect(sent.map((m) => m.keys)).toEqual([[key('a'), key('b')]]);
  });
});

describe('receive', () => {
  it('each op reaches its handler; Buffers are read as text; each is counted as received', () => {
    const { b, counters, calls } = bus();
    b.receive(text({ op: 'set', keys: ['s'] }));
    b.receive(Buffer.from(text({ seq: 2, keys: ['d'] })));
    b.receive(text({ seq: 3, op: 'deleteByTag', tags: ['t'] }));
    b.receive(text({ seq: 4, op: 'clear' }));
    expect(calls).toEqual([['keys', ['s']], ['keys', ['d']], ['tags', ['t']], ['clear']]);
    expect(counters.bus.received).toBe(4);
    expect(counters.bus.malformed).toBe(0);
  });

  it('its own messages are counted and ignored', async () => {
    const { b, counters, calls, sent } = bus();
    await b.publish('clear');
    b.receive(JSON.stringify(sent[0]));
    expect(calls).toEqual([]);
    expect([counters.bus.ignoredOwn, counters.bus.received]).toEqual([1, 0]);
  });

  it('the first message of a sender never purges; a skipped number does, once; a repeat does not', () => {
    const { b, counters, calls } = bus();
    const purges = () => calls.filter(([c]) => c === 'purge');
    b.receive(text({ seq: 7 }));
    b.receive(text({ seq: 8 }));
    b.receive(text({ seq: 8 }));
    expect(purges()).toEqual([]);
    b.receive(text({ seq: 10 }));
    expect(purges()).toEqual([['purge', 'gap']]);
    expect(counters.bus.purges).toBe(1);
    b.receive(text({ seq: 11 }));
    b.receive(text({ origin: 'another', seq: 5 }));
    expect(purges()).toHaveLength(1);
  });

  it('remembers the 1024 most recently heard senders: a sender heard again stays, the least recent is forgotten', () => {
    const { b, calls } = bus();
    const purges = () => calls.filter(([c]) => c === 'purge').length;
    b.receive(text({ origin: 'first', seq: 1 }));
    b.receive(text({ origin: 'kept', seq: 1 }));
    for (let i = 0; i < 1021; i++) b.receive(text({ origin: `o${i}`, seq: 1 }));
    b.receive(text({ origin: 'first', seq: 2 })); // 1023 senders; 'first' is now the most recent
    b.receive(text({ origin: 'one-more', seq: 1 })); // 1024: nothing forgotten yet
    b.receive(text({ origin: 'kept', seq: 3 }));
    expect(purges()).toBe(1); // 'kept' was remembered at 1: a gap
    b.receive(text({ origin: 'newcomer', seq: 1 })); // 1025: forgets o0, the least recently heard
    b.receive(text({ origin: 'first', seq: 4 }));
    expect(purges()).toBe(2); // 'first' was remembered at 2
    b.receive(text({ origin: 'o1', seq: 5 }));
    expect(purges()).toBe(3); // o1 was remembered
    b.receive(text({ origin: 'o0', seq: 5 }));
    expect(purges()).toBe(3); // o0 was forgotten: a first message again
  });
});

describe('through a real Redis', () => {
  const u = new URL(redisUrl());
  let proxy: TcpFaultProxy;
  beforeAll(async () => {
    proxy = await TcpFaultProxy.start({ target: { host: u.hostname, port: Number(u.port || 6379) } });
  });
  afterAll(() => proxy.close());
  afterEach(() => proxy.restore());

  async function subscribed(r: Redis, channel: string, n = 1): Promise<boolean> {
    return eventually(async () => Number(((await r.pubsub('NUMSUB', channel)) as [string, number])[1]) >= n, 5000);
  }

  function viaProxy(channel: string) {
    return bus({ channel, source: { target: { kind: 'single', url: proxy.urlFor(redisUrl()) } } });
  }

  it('hears its channel; a lost connection purges once it is back, and messages flow again', async () => {
    const channel = uniqueNs('bus-cut');
    const r = new Redis(redisUrl());
    fx.onCleanup(async () => void (await r.quit()));
    const { b, calls } = viaProxy(channel);
    expect(await subscribed(r, channel)).toBe(true);
    await r.publish(channel, text({ keys: ['before'] }));
    expect(await eventually(() => calls.length === 1, 5000)).toBe(true);
    expect(calls).toEqual([['keys', ['before']]]);
    proxy.cutAll();
    expect(await eventually(() => calls.some(([c]) => c === 'purge'), 5000)).toBe(true);
    expect(calls[1]).toEqual(['purge', 'reconnect']);
    expect(await subscribed(r, channel)).toBe(true);
    await r.publish(channel, text({ seq: 2, keys: ['after'] }));
    expect(await eventually(() => calls.length === 3, 5000)).toBe(true);
    expect(calls[2]).toEqual(['keys', ['after']]);
    await b.close();
    await b.close(); // twice is fine
    // Closed: its subscriber connection is gone.
    expect(
      await eventually(async () => Number(((await r.pubsub('NUMSUB', channel)) as [string, number])[1]) === 0, 5000),
    ).toBe(true);
  });

  it("given the caller's client, subscribes on a connection of its own: the caller's stays usable", async () => {
    const channel = uniqueNs('bus-dup');
    const r = new Redis(redisUrl());
    fx.onCleanup(async () => void (await r.quit()));
    const { calls } = bus({ channel, source: { client: r } });
    expect(await subscribed(r, channel)).toBe(true);
    expect(await r.ping()).toBe('PONG'); // not in subscriber mode
    await r.publish(channel, text({ keys: ['k'] }));
    expect(await eventually(() => calls.length === 1, 5000)).toBe(true);
    expect(calls).toEqual([['keys', ['k']]]);
  });

  it('with Redis down at start, subscribes once it is up, without a purge (nothing was missed)', async () => {
    const channel = uniqueNs('bus-late');
    const r = new Redis(redisUrl());
    fx.onCleanup(async () => void (await r.quit()));
    proxy.refuse();
    const { calls } = viaProxy(channel);
    await new Promise((resolve) => setTimeout(resolve, 200)); // a few refused attempts
    proxy.restore();
    expect(await subscribed(r, channel)).toBe(true);
    await r.publish(channel, text({ keys: ['k'] }));
    expect(await eventually(() => calls.length === 1, 5000)).toBe(true);
    expect(calls).toEqual([['keys', ['k']]]);
  });
});
