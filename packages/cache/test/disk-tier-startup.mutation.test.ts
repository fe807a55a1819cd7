// Issue 21 (mutation testing): the L3 tier against a real directory, at start-up: what a new
// instance finds on disk and keeps, deletes and leaves alone (also the LRU order across a restart),
// and ensurePrivateDir's checks on the directory itself. Reads, writes, deletes, spans and latency
// are in disk-tier.mutation.test.ts.
import {
  chmodSync,
  chownSync,
  lchownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CacheConfigError } from '../src';
import { ensurePrivateDir } from '../src/disk-tier';
import { Codec } from '../src/serializer';
import { diskTierHarness, envelope, fakeClocksOnly, files, HOUR, read, sha, T0 } from './disk-tier-helpers';

const { fx, tier, errorsOf } = diskTierHarness();

describe('start-up', () => {
  // Start-up compares expiry with the clock: pin Date.now() only (file I/O keeps real timers).
  beforeEach(() => {
    fakeClocksOnly({ now: T0 });
  });
  afterEach(() => jest.useRealTimers());

  it('indexes what it finds (tags and sizes), drops temp and expired files, leaves foreign names alone', async () => {
    const dir = fx.dir();
    const first = tier(dir);
    await first.t.set('keep', envelope('k', T0 + 1, ['t']), T0 + 1, ['t']);
    await first.t.set('edge', envelope('e', T0, []), T0, []); // expires exactly now
    await first.t.set('other-tag', envelope('o', T0 + HOUR, ['u']), T0 + HOUR, ['u']);
    writeFileSync(path.join(dir, `${sha('ns:v1:x')}.abc.tmp`), 'half');
    // Names we never write: upper case, too long, a prefix before the hash.
    const foreign = ['README', 'A'.repeat(64), 'a'.repeat(65), `x${'a'.repeat(64)}`];
    for (const name of foreign) writeFileSync(path.join(dir, name), 'not ours');
    const second = tier(dir);
    expect(await read(second.t, 'keep')).toBe('k');
    expect(second.counters.evictions.expired).toBe(1);
    expect(files(dir)).toEqual([...foreign, sha('ns:v1:keep'), sha('ns:v1:other-tag')].sort());
    const size = (k: string) => statSync(path.join(dir, sha(`ns:v1:${k}`))).size;
    expect([second.counters.entries, second.counters.bytes]).toEqual([2, size('keep') + size('other-tag')]);
    expect(await second.t.deleteByTags(['t'])).toEqual(['keep']);
    expect(second.counters.corrupt).toBe(0);
  });

  it('a directory with a name like ours is skipped; entries with an empty body (with or without tags) are kept', async () => {
    const dir = fx.dir();
    mkdirSync(path.join(dir, sha('ns:v1:a-dir')));
    const empty = new Codec({ serialize: () => Buffer.alloc(0), deserialize: (b) => b.length }, 0);
    const bare = (tags: string[]) =>
      empty.encode(Buffer.alloc(0), { createdAt: T0, expiresAt: T0 + HOUR, staleUntil: T0 + HOUR, tags });
    const first = tier(dir);
    await first.t.set('no-tags', bare([]), T0 + HOUR, []); // an envelope that is only its header
    await first.t.set('tags-only', bare(['t']), T0 + HOUR, ['t']); // tags run to the envelope's end
    await first.t.set('plain', envelope('p'), T0 + HOUR, []);
    const second = tier(dir);
    expect(await read(second.t, 'plain')).toBe('p');
    expect(second.counters.entries).toBe(3);
    expect(second.counters.errors + second.counters.corrupt).toBe(0);
    expect(await second.t.deleteByTags(['t'])).toEqual(['tags-only']);
    expect(await second.t.get('no-tags', T0)).toHaveLength(28);
  });

  it('start-up closes every file it reads (no descriptor leak)', async () => {
    const dir = fx.dir();
    const first = tier(dir);
    for (let i = 0; i < 30; i++) await first.t.set(`k${i}`, envelope(i), T0 + HOUR, []);
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    const second = tier(dir);
    await second.t.flush();
    expect(second.counters.entries).toBe(30);
    expect(fds() - before).toBeLessThan(10); // 30 files read; a leak would keep 30 open
  });

  it("another namespace's files in the same directory are neither served, counted nor removed", async () => {
    const dir = fx.dir();
    await tier(dir, { scope: 'other:v1' }).t.set('k', envelope('theirs'), T0 + HOUR, []);
    const mine = tier(dir);
    expect(await read(mine.t, 'k')).toBeNull();
    await mine.t.clear();
    expect(files(dir)).toEqual([sha('other:v1:k')]);
    expect([mine.counters.corrupt, mine.counters.entries]).toEqual([0, 0]);
  });

  it.each([
    ['a short file', () => Buffer.alloc(10)],
    ['another magic', (b: Buffer) => (b.writeUInt32BE(1, 0), b)],
    ['a wrong total length', (b: Buffer) => Buffer.concat([b, Buffer.alloc(1)])],
    [
      'an envelope shorter than its header',
      (b: Buffer) => {
        const keyLen = b.readUInt32BE(4);
        const out = b.subarray(0, 44 + keyLen + 10);
        out.writeUInt32BE(10, 8);
        return out;
      },
    ],
    ['a tag length past the envelope', (b: Buffer) => (b.writeUInt16LE(5000, 44 + b.readUInt32BE(4) + 26), b)],
    ['tags that are not JSON', (b: Buffer) => (b.write('{', 44 + b.readUInt32BE(4) + 28), b)],
  ])('%s found at start-up is removed and counted as corrupt', async (_what, damage: (b: Buffer) => Buffer) => {
    const dir = fx.dir();
    await tier(dir).t.set('bad', envelope('x', T0 + HOUR, ['tag']), T0 + HOUR, ['tag']);
    await tier(dir).t.set('good', envelope('g'), T0 + HOUR, []);
    const file = path.join(dir, sha('ns:v1:bad'));
    writeFileSync(file, damage(readFileSync(file)));
    const second = tier(dir);
    expect(await read(second.t, 'good')).toBe('g');
    expect([second.counters.corrupt, await errorsOf('corrupt')]).toEqual([1, 1]);
    expect(files(dir)).toEqual([sha('ns:v1:good')]);
  });

  it('keeps the least recently used order across a restart (by file time) and evicts down to maxBytes', async () => {
    const dir = fx.dir();
    const first = tier(dir);
    for (const k of ['a', 'b', 'c']) await first.t.set(k, envelope('x'.repeat(100)), T0 + HOUR, []);
    const size = statSync(path.join(dir, sha('ns:v1:a'))).size;
    // a was used last, b first.
    utimesSync(path.join(dir, sha('ns:v1:b')), 1000, 1000);
    utimesSync(path.join(dir, sha('ns:v1:c')), 2000, 2000);
    utimesSync(path.join(dir, sha('ns:v1:a')), 3000, 3000);
    const second = tier(dir, { maxBytes: 2 * size });
    expect(await read(second.t, 'a')).toBe('x'.repeat(100));
    expect(second.counters.evictions.bytes).toBe(1);
    expect(files(dir)).toEqual([sha('ns:v1:a'), sha('ns:v1:c')].sort());
    expect(second.counters.bytes).toBe(2 * size);
  });
});

describe('ensurePrivateDir', () => {
  it('creates a missing directory 0700 and tightens an existing one', () => {
    const root = fx.dir();
    const fresh = path.join(root, 'a', 'b');
    ensurePrivateDir(fresh);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    const loose = path.join(root, 'loose');
    mkdirSync(loose);
    chmodSync(loose, 0o701);
    ensurePrivateDir(loose);
    expect(statSync(loose).mode & 0o777).toBe(0o700);
  });

  it("refuses someone else's directory, and a link of ours to one, naming the owner", () => {
    const root = fx.dir();
    const uid = process.getuid!();
    // As root, hand a directory to "nobody"; as anyone else, the root-owned temp dir is someone else's.
    const theirs = uid === 0 ? path.join(root, 'theirs') : os.tmpdir();
    if (uid === 0) {
      mkdirSync(theirs);
      chownSync(theirs, 65534, 65534);
    }
    const owner = statSync(theirs).uid;
    const refusal = (dir: string) =>
      new CacheConfigError(
        'l3.dir',
        `a directory owned by the current user (uid ${uid})`,
        `${dir} owned by uid ${owner}`,
      );
    expect(() => ensurePrivateDir(theirs)).toThrow(refusal(theirs));
    symlinkSync(theirs, path.join(root, 'link'));
    expect(() => ensurePrivateDir(path.join(root, 'link'))).toThrow(refusal(path.join(root, 'link')));
    if (uid !== 0) return; // a link owned by someone else can only be made as root (as in CI)
    mkdirSync(path.join(root, 'ours'), { mode: 0o700 });
    symlinkSync(path.join(root, 'ours'), path.join(root, 'planted'));
    lchownSync(path.join(root, 'planted'), 65534, 65534);
    expect(() => ensurePrivateDir(path.join(root, 'planted'))).toThrow(refusal(path.join(root, 'planted')));
  });

  it('accepts a symlink to a directory of ours; refuses a file or a link to one, naming the option', () => {
    const root = fx.dir();
    mkdirSync(path.join(root, 'real'), { mode: 0o700 });
    symlinkSync(path.join(root, 'real'), path.join(root, 'link'));
    expect(() => ensurePrivateDir(path.join(root, 'link'))).not.toThrow();
    writeFileSync(path.join(root, 'file'), 'x');
    let err: unknown;
    try {
      ensurePrivateDir(path.join(root, 'file'), 'my.option');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CacheConfigError);
    expect(err).toMatchObject({ option: 'my.option' });
    expect((err as Error).message).toBe(
      new CacheConfigError('my.option', 'a directory', `${path.join(root, 'file')} (not a directory)`).message,
    );
    expect(() => ensurePrivateDir(path.join(root, 'file'))).toThrow(expect.objectContaining({ option: 'l3.dir' }));
    symlinkSync(path.join(root, 'file'), path.join(root, 'file-link'));
    expect(() => ensurePrivateDir(path.join(root, 'file-link'))).toThrow(/\(not a directory\)/);
  });
});
