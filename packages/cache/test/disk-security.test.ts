// The disk tier as an attacker on the same machine sees it: private modes, a per-user default
// location, a directory owned by someone else refused, planted files refused with a MAC key.
import { chownSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { CacheConfigError, defaultL3Dir, sha256Hex } from '../src';
import { Fixture, uniqueNs } from './helpers';

const fx = new Fixture();
afterEach(() => fx.dispose());

const KEY = 'a-mac-key-of-32-bytes-0123456789';
const mode = (p: string) => statSync(p).mode & 0o777;

/** A file in the tier's format with a plain SHA-256 checksum: what an attacker without the key can forge. */
function forge(dir: string, ns: string, key: string, value: unknown, magic = 0x50534333): void {
  const payload = Buffer.from(JSON.stringify(value));
  const env = Buffer.alloc(28);
  env.writeUInt8(1, 0);
  env.writeDoubleLE(Date.now(), 2);
  env.writeDoubleLE(Date.now() + 600_000, 10);
  env.writeDoubleLE(Date.now() + 600_000, 18);
  const envelope = Buffer.concat([env, payload]);
  const keyBytes = Buffer.from(key);
  const pre = Buffer.alloc(44);
  pre.writeUInt32BE(magic, 0);
  pre.writeUInt32BE(keyBytes.length, 4);
  pre.writeUInt32BE(envelope.length, 8);
  const file = Buffer.concat([pre, keyBytes, envelope]);
  createHash('sha256').update(file.subarray(0, 12)).update(file.subarray(44)).digest().copy(file, 12);
  writeFileSync(path.join(dir, sha256Hex(`${ns}:v1:${key}`)), file);
}

describe('L3 file modes and location', () => {
  it('creates the directory 0700 and every file 0600, whatever the umask', async () => {
    const parent = fx.dir();
    const dir = path.join(parent, 'nested', 'cache');
    const old = process.umask(0o000);
    try {
      const cache = fx.cache({ namespace: uniqueNs('modes'), l3: { dir } });
      await cache.set('k', 'v');
      await cache.set('k2', { big: 'x'.repeat(5000) });
      await cache.close();
    } finally {
      process.umask(old);
    }
    expect(mode(dir)).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toHaveLength(2);
    for (const f of files) expect(mode(path.join(dir, f))).toBe(0o600);
  });

  it('tightens an existing directory of ours to 0700', async () => {
    const dir = path.join(fx.dir(), 'loose');
    mkdirSync(dir, { mode: 0o755 });
    fx.cache({ namespace: uniqueNs('loose'), l3: { dir } });
    expect(mode(dir)).toBe(0o700);
  });

  it('defaults to a per-user location (XDG_CACHE_HOME, else the temp dir with the uid)', () => {
    expect(defaultL3Dir({ XDG_CACHE_HOME: '/home/u/.cache' })).toBe('/home/u/.cache/periscope-cache');
    expect(defaultL3Dir({})).toBe(path.join(os.tmpdir(), `periscope-cache-${process.getuid!()}`));
    expect(defaultL3Dir({ XDG_CACHE_HOME: 'relative' })).toBe(
      path.join(os.tmpdir(), `periscope-cache-${process.getuid!()}`),
    );
  });

  it('l3 without a dir uses the per-user default (here under an injected XDG_CACHE_HOME)', async () => {
    const xdg = fx.dir();
    const cache = fx.cache({ namespace: uniqueNs('default'), l3: {}, env: { XDG_CACHE_HOME: xdg } });
    await cache.set('k', 'v');
    const dir = path.join(xdg, 'periscope-cache');
    expect(readdirSync(dir)).toHaveLength(1);
    expect(mode(dir)).toBe(0o700);
  });

  it('refuses a directory owned by another user, naming l3.dir and the owner', () => {
    const dir = path.join(fx.dir(), 'theirs');
    mkdirSync(dir, { mode: 0o777 });
    const uid = process.getuid!();
    // As root, hand the directory to "nobody"; as anyone else, the root-owned temp dir is someone else's.
    const target = uid === 0 ? (chownSync(dir, 65534, 65534), dir) : os.tmpdir();
    let err: unknown;
    try {
      fx.cache({ namespace: uniqueNs('theirs'), l3: { dir: target } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CacheConfigError);
    expect(err).toMatchObject({ code: 'ERR_CACHE_CONFIG', option: 'l3.dir' });
    expect((err as Error).message).toMatch(/owned by uid \d+/);
  });

  it('re-creates the directory when it disappears, and keeps serving', async () => {
    const dir = path.join(fx.dir(), 'vanishing');
    const ns = uniqueNs('vanish');
    const cache = fx.cache({ namespace: ns, l1: { maxEntries: 1 }, l3: { dir } });
    await cache.set('before', 1);
    rmSync(dir, { recursive: true, force: true });
    await cache.set('after', 2);
    await cache.set('evicts-after-from-l1', 3);
    expect(mode(dir)).toBe(0o700);
    expect(await cache.get('before')).toBeUndefined(); // gone with the directory: a miss
    expect(await cache.get('after')).toBe(2); // from the re-created directory
    expect(cache.stats().l3!.errors).toBeGreaterThanOrEqual(1); // counted (dir_recreated)
  });
});

describe('L3 integrity', () => {
  it('without a key, a forged file in the format is served (the checksum only catches corruption)', async () => {
    const dir = fx.dir();
    const ns = uniqueNs('nokey');
    forge(dir, ns, 'k', 'planted');
    const cache = fx.cache({ namespace: ns, l3: { dir } });
    expect(await cache.get('k')).toBe('planted');
  });

  it('with l3.macKey, a planted file is a miss: the factory runs and the file is replaced', async () => {
    const dir = fx.dir();
    const ns = uniqueNs('mac');
    forge(dir, ns, 'k', 'planted');
    forge(dir, ns, 'k2', 'planted', 0x5053434d); // even with the keyed format's magic
    const cache = fx.cache({ namespace: ns, l3: { dir, macKey: KEY } });
    let calls = 0;
    expect(await cache.getOrSet('k', () => (calls++, 'computed'))).toBe('computed');
    expect(await cache.getOrSet('k2', () => (calls++, 'computed2'))).toBe('computed2');
    expect(calls).toBe(2);
    await cache.close();
    // What it wrote itself is served by the next instance with the same key...
    const again = fx.cache({ namespace: ns, l3: { dir, macKey: KEY } });
    expect(await again.getOrSet('k', () => 'not called')).toBe('computed');
    // ...and not by one with another key.
    const other = fx.cache({ namespace: ns, l3: { dir, macKey: `${KEY}-other` } });
    expect(await other.get('k2')).toBeUndefined();
  });

  it('the MAC key can come from PERISCOPE_CACHE_L3_MAC_KEY, and changes the checksum', async () => {
    const dir = fx.dir();
    const ns = uniqueNs('macenv');
    const cache = fx.cache({ namespace: ns, l3: { dir }, env: { PERISCOPE_CACHE_L3_MAC_KEY: KEY } });
    await cache.set('k', 'v');
    await cache.close();
    const file = readFileSync(path.join(dir, sha256Hex(`${ns}:v1:k`)));
    expect(file.readUInt32BE(0)).toBe(0x5053434d);
    const unkeyed = fx.cache({ namespace: ns, l3: { dir } });
    expect(await unkeyed.get('k')).toBeUndefined();
  });
});
