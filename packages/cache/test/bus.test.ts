// The invalidation bus against hostile input: anything received that is not a well-formed bus
// message is ignored and counted, and nothing received from Redis throws out of a handler.
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { redisUrl } from '@periscope-tools/testing';
import { BUS_VERSION, MAX_BUS_MESSAGE_BYTES } from '../src';
import { InvalidationBus, parseBusMessage } from '../src/bus';
import { CacheCounters } from '../src/instrumentation';
import { Fixture, eventually, uniqueNs } from './helpers';

const fx = new Fixture();
afterEach(() => fx.dispose());

const NS = 'ns';
const valid = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ v: BUS_VERSION, origin: 'peer', seq: 1, op: 'delete', namespace: NS, keys: ['k'], ...extra });

describe('parseBusMessage', () => {
  it.each([
    ['null', 'null'],
    ['an array', '[1,2]'],
    ['a number', '42'],
    ['a string', '"delete"'],
    ['an empty object', '{}'],
    ['keys of the wrong type', valid({ keys: 'k' })],
    ['keys holding null', valid({ keys: [null] })],
    ['a missing seq', valid({ seq: undefined })],
    ['a fractional seq', valid({ seq: 1.5 })],
    ['an unknown op', valid({ op: 'flushall' })],
    ['another namespace', valid({ namespace: 'other' })],
    ['another version', valid({ v: BUS_VERSION + 1 })],
    ['an origin that is an object', valid({ origin: { toString: 1 } })],
    ['deleteByTag without tags', valid({ op: 'deleteByTag', keys: undefined })],
    ['oversize text', valid({ keys: ['x'.repeat(MAX_BUS_MESSAGE_BYTES)] })],
    ['not JSON', '{"v":'],
  ])('rejects %s', (_what, text) => {
    expect(parseBusMessage(text, NS)).toBeUndefined();
  });

  it('accepts each well-formed op', () => {
    expect(parseBusMessage(valid(), NS)).toMatchObject({ op: 'delete', keys: ['k'] });
    expect(parseBusMessage(valid({ op: 'deleteByTag', keys: undefined, tags: ['t'] }), NS)).toMatchObject({
      tags: ['t'],
    });
    expect(parseBusMessage(valid({ op: 'clear', keys: undefined }), NS)).toMatchObject({ op: 'clear' });
  });

  it('property: never throws on arbitrary JSON, values or text; whatever it accepts is well-typed', () => {
    const check = (input: unknown) => {
      const m = parseBusMessage(input, NS);
      if (m === undefined) return true;
      return (
        m.namespace === NS &&
        typeof m.origin === 'string' &&
        Number.isSafeInteger(m.seq) &&
        (m.op === 'clear' || Array.isArray(m.keys ?? m.tags))
      );
    };
    fc.assert(fc.property(fc.json(), check), { numRuns: 2000 });
    fc.assert(fc.property(fc.string(), check), { numRuns: 1000 });
    fc.assert(fc.property(fc.anything(), check), { numRuns: 1000 });
    // Well-shaped messages with every field replaced by arbitrary JSON.
    const field = fc.constantFrom('v', 'origin', 'seq', 'op', 'namespace', 'keys', 'tags');
    fc.assert(
      fc.property(field, fc.jsonValue(), (name, value) => check(valid({ [name]: value }))),
      { numRuns: 2000 },
    );
  });
});

describe('InvalidationBus.receive', () => {
  it('property: arbitrary bytes and JSON never throw out of the handler and are counted as malformed or applied', async () => {
    const counters = new CacheCounters(NS);
    const applied: string[] = [];
    const bus = new InvalidationBus({
      namespace: NS,
      channel: 'unused',
      source: { target: { kind: 'single', url: 'redis://127.0.0.1:1' } },
      reconnect: { reconnectMaxDelayMs: 50, socketTimeoutMs: 100 },
      publishRaw: async () => undefined,
      handlers: {
        onKeys: (keys) => void applied.push(...keys),
        onTags: () => undefined,
        onClear: () => undefined,
        onPurge: () => undefined,
      },
      counters,
    });
    fx.onCleanup(() => bus.close());
    let seen = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array().map((b) => Buffer.from(b)),
          fc.json(),
          fc.anything(),
        ),
        (input) => {
          bus.receive(input);
          seen++;
        },
      ),
      { numRuns: 2000 },
    );
    const b = counters.bus;
    expect(b.malformed + b.received + b.handlerErrors).toBe(seen);
    // A handler that throws is contained and counted too.
    const throwing = new InvalidationBus({
      namespace: NS,
      channel: 'unused',
      source: { target: { kind: 'single', url: 'redis://127.0.0.1:1' } },
      reconnect: { reconnectMaxDelayMs: 50, socketTimeoutMs: 100 },
      publishRaw: async () => undefined,
      handlers: {
        onKeys: () => {
          throw new Error('handler bug');
        },
        onTags: () => undefined,
        onClear: () => undefined,
        onPurge: () => undefined,
      },
      counters,
    });
    fx.onCleanup(() => throwing.close());
    const before = counters.bus.handlerErrors;
    expect(() => throwing.receive(valid({ origin: 'another-peer' }))).not.toThrow();
    expect(counters.bus.handlerErrors).toBe(before + 1);
  });
});

describe('hostile messages through a real Redis', () => {
  it('null, arrays, wrong types and huge messages on the channel are ignored and counted; the cache keeps working', async () => {
    const ns = uniqueNs('hostile');
    const opts = { namespace: ns, l2: { url: redisUrl(), timeoutMs: 500 }, defaultTtlMs: 60_000 };
    const a = fx.cache(opts);
    const b = fx.cache(opts);
    const r = new Redis(redisUrl());
    fx.onCleanup(async () => void (await r.quit()));
    const channel = `periscope:cache:${ns}:v1:bus`;
    expect(
      await eventually(async () => Number(((await r.pubsub('NUMSUB', channel)) as [string, number])[1]) >= 2),
    ).toBe(true);
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    const hostile: (string | Buffer)[] = [
      'null',
      '[]',
      '[null]',
      '0',
      'true',
      '"x"',
      '{}',
      JSON.stringify({ v: BUS_VERSION, origin: 'x', seq: 1, op: 'delete', namespace: ns, keys: null }),
      JSON.stringify({ v: BUS_VERSION, origin: 'x', seq: 1, op: 'deleteByTag', namespace: ns, tags: [1] }),
      JSON.stringify({ v: BUS_VERSION, origin: null, seq: 'x', op: 'set', namespace: ns, keys: ['k'] }),
      `{"v":1,"keys":["${'a'.repeat(MAX_BUS_MESSAGE_BYTES)}"]}`,
      Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
    ];
    for (const m of hostile) await r.publish(channel, m);
    expect(await eventually(() => b.stats().bus!.malformed >= hostile.length, 5000)).toBe(true);
    expect(b.stats().bus!.malformed).toBe(hostile.length);
    expect(b.stats().bus!.handlerErrors).toBe(0);
    const hits = b.stats().l1.hits;
    expect(await b.get('k')).toBe('v1'); // L1 untouched by the garbage
    expect(b.stats().l1.hits).toBe(hits + 1);
    // A well-formed message still works afterwards.
    await a.set('k', 'v2');
    expect(await eventually(async () => (await b.get('k')) === 'v2')).toBe(true);
  });
});

describe('ordering', () => {
  it('a late (reordered) message is applied but neither purges L1 nor moves the sequence backwards', () => {
    const counters = new CacheCounters(NS);
    const purges: string[] = [];
    const dropped: string[] = [];
    const bus = new InvalidationBus({
      namespace: NS,
      channel: 'unused',
      source: { target: { kind: 'single', url: 'redis://127.0.0.1:1' } },
      reconnect: { reconnectMaxDelayMs: 50, socketTimeoutMs: 100 },
      publishRaw: async () => undefined,
      handlers: {
        onKeys: (keys) => void dropped.push(...keys),
        onTags: () => undefined,
        onClear: () => undefined,
        onPurge: (reason) => void purges.push(reason),
      },
      counters,
    });
    fx.onCleanup(() => bus.close());
    const msg = (seq: number, key: string) => valid({ seq, keys: [key] });
    bus.receive(msg(1, 'a'));
    bus.receive(msg(2, 'b'));
    bus.receive(msg(3, 'c'));
    expect(purges).toEqual([]);
    bus.receive(msg(5, 'e')); // 4 is missing: a real gap
    expect(purges).toEqual(['gap']);
    bus.receive(msg(4, 'd')); // arrives late: applied, no purge, sequence stays at 5
    bus.receive(msg(6, 'f'));
    expect(purges).toEqual(['gap']);
    expect(dropped).toEqual(['a', 'b', 'c', 'e', 'd', 'f']);
  });
});

describe('long key lists', () => {
  it('a setMany of more keys than one message holds reaches the peer in several messages, none dropped', async () => {
    const ns = uniqueNs('many');
    const opts = { namespace: ns, l2: { url: redisUrl(), timeoutMs: 2000 }, defaultTtlMs: 60_000 };
    const a = fx.cache(opts);
    const b = fx.cache({ ...opts, l1: { maxEntries: 50_000 } });
    const r = new Redis(redisUrl());
    fx.onCleanup(async () => void (await r.quit()));
    const channel = `periscope:cache:${ns}:v1:bus`;
    expect(
      await eventually(async () => Number(((await r.pubsub('NUMSUB', channel)) as [string, number])[1]) >= 2),
    ).toBe(true);
    const keys = Array.from({ length: 5_000 }, (_, i) => `a-key-with-a-name-long-enough-to-fill-${i}`); // ~230 KB of JSON
    await b.setMany(keys.map((key) => ({ key, value: 0 }))); // now in b's L1 (b's own messages are ignored)
    await a.setMany(keys.map((key) => ({ key, value: 1 })));
    expect(await eventually(() => b.stats().bus!.received >= 2, 5000)).toBe(true);
    expect(b.stats().bus!.malformed).toBe(0);
    expect(await eventually(() => b.stats().l1.entries === 0, 5000)).toBe(true);
    expect(await b.get(keys[keys.length - 1])).toBe(1);
  });
});
