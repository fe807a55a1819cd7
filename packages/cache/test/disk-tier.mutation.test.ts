// Issue 21 (mutation testing): the L3 tier against a real directory, driven directly: the file
// format other instances read, expiry at its exact instant, writes, deletes and LRU eviction, which
// failures are counted as what, and the spans and latency each operation records. Start-up (what a
// new instance keeps, deletes and leaves alone) and the directory checks are in
// disk-tier-startup.mutation.test.ts.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash, createHmac } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { diskTierHarness, envelope, fakeClocksOnly, files, HOUR, read, sha, T0 } from './disk-tier-helpers';

const { fx, tier, errorsOf, timed } = diskTierHarness();

describe('file format', () => {
  it('magic, key length, envelope length, SHA-256 over all but the checksum, the key, then the envelope', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    const env = envelope('v');
    await t.set('key-ü', env, T0 + HOUR, []);
    expect(files(dir)).toEqual([sha('ns:v1:key-ü')]);
    expect(t.fileName('key-ü')).toBe(sha('ns:v1:key-ü'));
    const file = readFileSync(path.join(dir, sha('ns:v1:key-ü')));
    const key = Buffer.from('key-ü');
    expect(file.readUInt32BE(0)).toBe(0x50534333);
    expect(file.readUInt32BE(4)).toBe(key.length);
    expect(file.readUInt32BE(8)).toBe(env.length);
    const sum = createHash('sha256').update(file.subarray(0, 12)).update(file.subarray(44)).digest();
    expect(file.subarray(12, 44)).toEqual(sum);
    expect(file.subarray(44, 44 + key.length)).toEqual(key);
    expect(file.subarray(44 + key.length)).toEqual(env);
    expect(file.length).toBe(44 + key.length + env.length);
    expect(await t.get('key-ü', T0)).toEqual(env);
    expect(counters.sets).toBe(1);
    expect([counters.entries, counters.bytes]).toEqual([1, file.length]);
    expect(counters.snapshot().latency.count).toBe(2); // one write, one read
    expect([await timed('write'), await timed('read')]).toEqual([1, 1]);
  });

  it('with a MAC key: the keyed magic and an HMAC-SHA-256 checksum', async () => {
    const dir = fx.dir();
    const macKey = Buffer.from('k'.repeat(32));
    const { t } = tier(dir, { macKey });
    await t.set('k', envelope(1), T0 + HOUR, []);
    const file = readFileSync(path.join(dir, sha('ns:v1:k')));
    expect(file.readUInt32BE(0)).toBe(0x5053434d);
    const mac = createHmac('sha256', macKey).update(file.subarray(0, 12)).update(file.subarray(44)).digest();
    expect(file.subarray(12, 44)).toEqual(mac);
    expect(await read(t, 'k')).toBe(1);
  });
});

describe('reads', () => {
  it('an entry is served until the instant before staleUntil, and at staleUntil is removed and counted expired', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    await t.set('k', envelope('v'), T0 + 100, []);
    expect(await read(t, 'k', T0 + 99)).toBe('v');
    expect(counters.evictions.expired).toBe(0);
    expect(await read(t, 'k', T0 + 100)).toBeNull();
    expect(counters.evictions.expired).toBe(1);
    expect(files(dir)).toEqual([]);
    expect([counters.entries, counters.bytes]).toEqual([0, 0]);
  });

  it('a corrupt file is a miss: removed, counted as corrupt', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    await t.set('k', envelope('v'), T0 + HOUR, []);
    const file = path.join(dir, sha('ns:v1:k'));
    const bytes = readFileSync(file);
    bytes[bytes.length - 2] ^= 1;
    writeFileSync(file, bytes);
    expect(await t.get('k', T0)).toBeNull();
    expect([counters.corrupt, counters.errors, await errorsOf('corrupt')]).toEqual([1, 1, 1]);
    expect(files(dir)).toEqual([]);
    expect(counters.entries).toBe(0);
  });

  it.each([
    ['another magic', (b: Buffer) => b.writeUInt32BE(0x50534334, 0)],
    ['a key length off by one', (b: Buffer) => b.writeUInt32BE(b.readUInt32BE(4) + 1, 4)],
    ['an envelope length off by one', (b: Buffer) => b.writeUInt32BE(b.readUInt32BE(8) - 1, 8)],
    ['a flipped checksum byte', (b: Buffer) => void (b[12] ^= 1)],
  ])('a file with %s is corrupt', async (_what, damage) => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    await t.set('k', envelope('v'), T0 + HOUR, []);
    const file = path.join(dir, sha('ns:v1:k'));
    const bytes = readFileSync(file);
    damage(bytes);
    writeFileSync(file, bytes);
    expect(await t.get('k', T0)).toBeNull();
    expect(counters.corrupt).toBe(1);
  });

  it("another key's intact file under this key's name is a miss (the stored key is checked)", async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    await t.set('a', envelope('A'), T0 + HOUR, []);
    await t.set('b', envelope('B'), T0 + HOUR, []);
    writeFileSync(path.join(dir, sha('ns:v1:b')), readFileSync(path.join(dir, sha('ns:v1:a'))));
    expect(await read(t, 'b')).toBeNull();
    expect(counters.corrupt).toBe(1);
    expect(await read(t, 'a')).toBe('A');
  });

  it('a file shorter than the fixed header is corrupt (removed), not an I/O error', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    await t.set('k', envelope('v'), T0 + HOUR, []);
    await t.set('j', envelope('v'), T0 + HOUR, []);
    writeFileSync(path.join(dir, sha('ns:v1:k')), Buffer.alloc(43));
    const file = path.join(dir, sha('ns:v1:j'));
    writeFileSync(file, readFileSync(file).subarray(0, 10)); // the right magic, then nothing
    expect(await t.get('k', T0)).toBeNull();
    expect(await t.get('j', T0)).toBeNull();
    expect([counters.corrupt, counters.errors]).toEqual([2, 2]);
    expect(files(dir)).toEqual([]);
  });

  it('a file that cannot be removed (a directory in its place) is an I/O error; the entry is dropped anyway', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    await t.set('k', envelope('v'), T0 + HOUR, []);
    const p = path.join(dir, sha('ns:v1:k'));
    rmSync(p);
    mkdirSync(p);
    await t.delete(['k']);
    expect([counters.errors, await errorsOf('io'), counters.entries]).toEqual([1, 1, 0]);
    expect(await t.get('k', T0)).toBeNull();
  });

  it('deleting an entry whose file is already gone is not an error', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    await t.set('k', envelope('v'), T0 + HOUR, []);
    rmSync(path.join(dir, sha('ns:v1:k')));
    await t.delete(['k']);
    expect([counters.errors, counters.deletes, counters.entries]).toEqual([0, 1, 0]);
  });

  it('a file removed behind our back is forgotten without an error; an unreadable one is an I/O error, kept', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    await t.set('gone', envelope(1), T0 + HOUR, []);
    await t.set('dir', envelope(2), T0 + HOUR, []);
    const bytes = counters.bytes;
    const goneSize = statSync(path.join(dir, sha('ns:v1:gone'))).size;
    rmSync(path.join(dir, sha('ns:v1:gone')));
    expect(await t.get('gone', T0)).toBeNull();
    expect(counters.errors).toBe(0);
    await t.set('x', envelope(3), T0 + HOUR, []); // publishes the size after forgetting
    expect(counters.entries).toBe(2);
    expect(counters.bytes).toBe(bytes - goneSize + statSync(path.join(dir, sha('ns:v1:x'))).size);
    // A directory in place of the file: EISDIR, not ENOENT.
    const p = path.join(dir, sha('ns:v1:dir'));
    rmSync(p);
    mkdirSync(p);
    expect(await t.get('dir', T0)).toBeNull();
    expect([counters.errors, counters.corrupt, await errorsOf('io')]).toEqual([1, 0, 1]);
    expect(counters.entries).toBe(2);
  });
});

describe('writes', () => {
  it('a delete that lands while a write is in flight wins: no file, no entry', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    const write = t.set('k', envelope('v'), T0 + HOUR, []);
    await t.delete(['k']);
    await write;
    expect(files(dir)).toEqual([]);
    expect(await t.get('k', T0)).toBeNull();
    expect(counters.sets).toBe(0);
    // The generation only blocks writes that started before the delete.
    await t.set('k', envelope('again'), T0 + HOUR, []);
    expect(await read(t, 'k')).toBe('again');
  });

  it('a failed rename is an I/O error: the temp file is removed and nothing is indexed', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    const target = path.join(dir, sha('ns:v1:k'));
    mkdirSync(target);
    writeFileSync(path.join(target, 'occupant'), 'x'); // rename over a non-empty directory fails
    await t.set('k', envelope('v'), T0 + HOUR, []);
    expect([counters.errors, await errorsOf('io')]).toEqual([1, 1]);
    expect(counters.sets).toBe(0);
    expect(files(dir)).toEqual([sha('ns:v1:k')]);
    expect([counters.entries, counters.bytes]).toEqual([0, 0]);
  });

  it('a vanished directory is re-created 0700 and counted once; the write lands', async () => {
    const root = fx.dir();
    const dir = path.join(root, 'l3');
    const { t, counters } = tier(dir);
    await t.flush(); // start-up has read the directory
    rmSync(dir, { recursive: true });
    await t.set('k', envelope('v'), T0 + HOUR, []);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, sha('ns:v1:k'))).mode & 0o777).toBe(0o600);
    expect([counters.errors, await errorsOf('dir_recreated')]).toEqual([1, 1]);
    expect(counters.sets).toBe(1);
    expect(await read(t, 'k')).toBe('v');
  });

  it('a write that fails for another reason (a path too long for its temp name) is one I/O error, no re-creation', async () => {
    // Linux allows 4095 bytes of path: the entry's own name fits here, its temp name does not.
    let dir = fx.dir();
    while (dir.length < 4020 - 200) dir = path.join(dir, 'd'.repeat(200));
    dir = path.join(dir, 'e'.repeat(4020 - dir.length - 1));
    expect(dir).toHaveLength(4020);
    const { t, counters } = tier(dir);
    await t.set('k', envelope('v'), T0 + HOUR, []);
    expect([counters.errors, await errorsOf('io'), await errorsOf('dir_recreated')]).toEqual([1, 1, 0]);
    expect(counters.sets).toBe(0);
  });

  it('evicts least recently used first, only once the total is above maxBytes', async () => {
    const dir = fx.dir();
    const size = 44 + 1 + envelope('x'.repeat(100)).length;
    const { t, counters } = tier(dir, { maxBytes: 3 * size });
    for (const k of ['a', 'b', 'c']) await t.set(k, envelope('x'.repeat(100)), T0 + HOUR, []);
    expect(counters.bytes).toBe(3 * size); // exactly at the limit: nothing evicted
    expect(counters.evictions.bytes).toBe(0);
    expect(await t.get('a', T0)).not.toBeNull(); // a is now the most recent
    await t.set('d', envelope('x'.repeat(100)), T0 + HOUR, []);
    expect(counters.evictions.bytes).toBe(1);
    expect(files(dir)).toEqual([sha('ns:v1:a'), sha('ns:v1:c'), sha('ns:v1:d')].sort());
    expect(counters.bytes).toBe(3 * size);
  });

  it('rewriting a key replaces its size in the total', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    await t.set('k', envelope('x'.repeat(500)), T0 + HOUR, []);
    await t.set('k', envelope('y'), T0 + HOUR, []);
    expect(counters.entries).toBe(1);
    expect(counters.bytes).toBe(statSync(path.join(dir, sha('ns:v1:k'))).size);
  });
});

describe('deletes, tags, sweep', () => {
  it('delete counts only the keys it held; deleteByTags returns the keys it removed; clear empties the tier', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    await t.set('a', envelope(1), T0 + HOUR, ['red']);
    await t.set('b', envelope(2), T0 + HOUR, ['blue', 'red']);
    await t.set('c', envelope(3), T0 + HOUR, ['green']);
    await t.set('d', envelope(4), T0 + HOUR, []);
    await t.delete(['d', 'never-set']);
    expect(counters.deletes).toBe(1);
    expect((await t.deleteByTags(['red', 'nope'])).sort()).toEqual(['a', 'b']);
    expect(counters.deletes).toBe(3);
    expect(files(dir)).toEqual([sha('ns:v1:c')]);
    await t.clear();
    expect(files(dir)).toEqual([]);
    expect([counters.entries, counters.bytes, counters.deletes]).toEqual([0, 0, 4]);
  });

  it('sweep removes entries whose staleUntil has come (inclusive) and keeps the rest', async () => {
    const dir = fx.dir();
    const { t, counters } = tier(dir);
    await t.set('past', envelope(1), T0 - 1, []);
    await t.set('now', envelope(2), T0, []);
    await t.set('later', envelope(3), T0 + 1, []);
    await t.sweep(T0);
    expect(counters.evictions.expired).toBe(2);
    expect(files(dir)).toEqual([sha('ns:v1:later')]);
    expect(counters.entries).toBe(1);
  });

  it('flush waits for writes in flight', async () => {
    const dir = fx.dir();
    const { t } = tier(dir);
    void t.set('k', envelope('v'), T0 + HOUR, []);
    await t.flush();
    expect(files(dir)).toEqual([sha('ns:v1:k')]);
  });
});

describe('spans', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => trace.setGlobalTracerProvider(provider));
  afterAll(async () => {
    trace.disable();
    await provider.shutdown();
  });
  const ended = () => exporter.getFinishedSpans().map((s) => [s.name, s.status.code, s.status.message ?? '']);

  it('a read and a write each end a span; a corrupt read and a failed write are marked as errors, saying why', async () => {
    const dir = fx.dir();
    const { t } = tier(dir);
    await t.set('k', envelope('v'), T0 + HOUR, []);
    await t.get('k', T0);
    expect(ended()).toEqual([
      ['cache.l3.write', 0, ''],
      ['cache.l3.read', 0, ''],
    ]);
    exporter.reset();
    const file = path.join(dir, sha('ns:v1:k'));
    writeFileSync(file, Buffer.alloc(100));
    await t.get('k', T0);
    expect(ended()).toEqual([['cache.l3.read', 2, 'corrupt entry']]);
    exporter.reset();
    mkdirSync(file);
    writeFileSync(path.join(file, 'occupant'), 'x');
    await t.set('k', envelope('v'), T0 + HOUR, []);
    await t.get('k', T0); // not indexed: no read span
    expect(ended()).toEqual([['cache.l3.write', 2, expect.stringMatching(/^E[A-Z]+: /)]]);
  });

  it('an unreadable file marks the read span with the error', async () => {
    const dir = fx.dir();
    const { t } = tier(dir);
    await t.set('k', envelope('v'), T0 + HOUR, []);
    const file = path.join(dir, sha('ns:v1:k'));
    rmSync(file);
    mkdirSync(file);
    exporter.reset();
    await t.get('k', T0);
    expect(ended()).toEqual([['cache.l3.read', 2, expect.stringMatching(/^EISDIR: /)]]);
  });
});

describe('latency', () => {
  // Durations come from the clock: freeze it (performance.now included), leaving I/O its real timers.
  beforeEach(() => {
    fakeClocksOnly({ performance: true });
    jest.advanceTimersByTime(60_000); // the clock reads well past its origin
  });
  afterEach(() => jest.useRealTimers());

  it('is the time between start and end of the operation: 0 ms on a clock that stands still', async () => {
    expect(performance.now()).toBeGreaterThanOrEqual(60_000);
    const { t, counters } = tier(fx.dir());
    await t.set('k', envelope('v'), T0 + HOUR, []);
    expect(await t.get('k', T0)).not.toBeNull();
    expect(counters.snapshot().latency).toEqual({ count: 2, meanMs: 0, maxMs: 0 });
  });
});
