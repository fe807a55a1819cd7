// L3 against a real directory: restart survival, corruption, truncation, size limit.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { sha256Hex } from '../src';
import { Fixture, uniqueNs } from './helpers';

const fx = new Fixture();
afterEach(() => fx.dispose());

function fileOf(dir: string, ns: string, key: string): string {
  return path.join(dir, sha256Hex(`${ns}:v1:${key}`));
}

describe('L3 disk tier', () => {
  it('survives a restart: a new instance on the same dir serves the value with its original expiry', async () => {
    const ns = uniqueNs('restart');
    const dir = fx.dir();
    const first = fx.cache({ namespace: ns, l3: { dir } });
    await first.set('k', { text: 'persisted' }, { ttlMs: 60_000, tags: ['t'] });
    await first.close();
    const second = fx.cache({ namespace: ns, l3: { dir } });
    expect(await second.get('k')).toEqual({ text: 'persisted' });
    expect(second.stats().l3!.hits).toBe(1);
    // Tags survive too.
    await second.deleteByTag('t');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes atomically: only final files, named by SHA-256 of the namespaced key, no temp files left', async () => {
    const ns = uniqueNs('atomic');
    const dir = fx.dir();
    const cache = fx.cache({ namespace: ns, l3: { dir } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => cache.set('same', `v${i}`)));
    await Promise.all(Array.from({ length: 20 }, (_, i) => cache.set(`k${i}`, i)));
    const files = readdirSync(dir);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(files).toContain(path.basename(fileOf(dir, ns, 'same')));
    expect(files).toHaveLength(21);
    const reader = fx.cache({ namespace: ns, l3: { dir } });
    expect(String(await reader.get('same'))).toMatch(/^v\d+$/);
  });

  it('a corrupt file is a miss: deleted and counted', async () => {
    const ns = uniqueNs('corrupt');
    const dir = fx.dir();
    const cache = fx.cache({ namespace: ns, l1: { maxEntries: 1 }, l3: { dir } });
    await cache.set('victim', 'original');
    await cache.set('other', 'pushes victim out of L1');
    const file = fileOf(dir, ns, 'victim');
    const bytes = readFileSync(file);
    bytes[bytes.length - 3] ^= 0xff; // flip a payload byte: same length, wrong checksum
    writeFileSync(file, bytes);
    expect(await cache.get('victim')).toBeUndefined();
    expect(cache.stats().l3!.corrupt).toBe(1);
    expect(readdirSync(dir)).not.toContain(path.basename(file));
    // The factory repopulates it.
    expect(await cache.getOrSet('victim', () => 'recomputed')).toBe('recomputed');
  });

  it('a truncated file found at start-up is deleted and counted; intact neighbours still serve', async () => {
    const ns = uniqueNs('trunc');
    const dir = fx.dir();
    const first = fx.cache({ namespace: ns, l3: { dir } });
    await first.set('cut', 'x'.repeat(2000));
    await first.set('fine', 'ok');
    await first.close();
    const file = fileOf(dir, ns, 'cut');
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length >> 1));
    const second = fx.cache({ namespace: ns, l3: { dir } });
    expect(await second.get('cut')).toBeUndefined();
    expect(await second.get('fine')).toBe('ok');
    expect(second.stats().l3!.corrupt).toBe(1);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('a file truncated while running is a miss too', async () => {
    const ns = uniqueNs('trunc2');
    const dir = fx.dir();
    const cache = fx.cache({ namespace: ns, l1: { maxEntries: 1 }, l3: { dir } });
    await cache.set('cut', 'y'.repeat(500));
    await cache.set('other', 1);
    const file = fileOf(dir, ns, 'cut');
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 1));
    expect(await cache.get('cut')).toBeUndefined();
    expect(cache.stats().l3!.corrupt).toBe(1);
  });

  it('evicts the least recently used files to stay under maxBytes', async () => {
    const ns = uniqueNs('evict');
    const dir = fx.dir();
    const value = 'z'.repeat(900); // ~1 KiB per file (uncompressed: no L2, so no compression)
    const cache = fx.cache({ namespace: ns, l1: { maxEntries: 1 }, l3: { dir, maxBytes: 3_500 } });
    await cache.set('a', value);
    await cache.set('b', value);
    await cache.set('c', value);
    await cache.get('a'); // a is now more recent than b
    await cache.set('d', value);
    const size = readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
    expect(size).toBeLessThanOrEqual(3_500);
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([value, undefined, value]);
    expect(cache.stats().l3!.evictions.bytes).toBe(1);
  });

  it('expired files are not served and are removed', async () => {
    const ns = uniqueNs('exp');
    const dir = fx.dir();
    const cache = fx.cache({ namespace: ns, l1: { maxEntries: 1 }, l3: { dir } });
    await cache.set('short', 1, { ttlMs: 20 });
    await cache.set('other', 2);
    await new Promise((r) => setTimeout(r, 40));
    expect(await cache.get('short')).toBeUndefined();
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('namespaces sharing a directory do not see or clear each other', async () => {
    const dir = fx.dir();
    const a = fx.cache({ namespace: uniqueNs('nsa'), l3: { dir } });
    const b = fx.cache({ namespace: uniqueNs('nsb'), l3: { dir } });
    await a.set('k', 'a');
    await b.set('k', 'b');
    await a.clear();
    expect(await b.get('k')).toBe('b');
    expect(readdirSync(dir)).toHaveLength(1);
  });
});
