// L3: one file per entry in a private directory (0700, owned by this user; files 0600), named by
// the SHA-256 of the namespaced key. Files are written to a temp name and renamed (atomic on
// POSIX), carry a checksum over key and envelope — an HMAC-SHA-256 when a key is configured, so a
// file planted by anyone without the key is a miss — and are indexed in memory (LRU order) at
// start-up, so a miss costs no syscall and the size limit can evict the least recently used. A
// corrupt, truncated or forged file is a miss: deleted, counted. A directory removed behind our
// back is re-created on the next write.
import {
  promises as fs,
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFile,
  rename,
  rm,
  statSync,
  writeFile,
} from 'node:fs';
import path from 'node:path';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { CacheConfigError } from './errors';
import type { TierCounters } from './instrumentation';

const MAGIC = 0x50534333; // "PSC3": unkeyed SHA-256
const MAGIC_MAC = 0x5053434d; // "PSCM": HMAC-SHA-256
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const PRE = 4 + 4 + 4 + 32; // magic, key length, envelope length, sha256
const META = 28; // envelope header (see serializer.ts): the tag length sits at offset 26

const tracer = trace.getTracer('@periscope/cache');

interface IndexEntry {
  key: string;
  size: number;
  staleUntil: number;
  tags: readonly string[];
}

export interface DiskTierOptions {
  dir: string;
  /** Namespace and version: part of the hashed name, so namespaces sharing a dir never collide. */
  scope: string;
  maxBytes: number;
  /** HMAC key; without it the checksum is a plain SHA-256 (detects corruption, not forgery). */
  macKey?: Buffer;
}

/**
 * Creates `dir` (0700) if needed and checks it is a directory owned by this user, tightening its
 * mode to 0700; throws CacheConfigError for a directory owned by someone else (or a symlink
 * planted in a shared place), since its owner could read or forge entries.
 */
export function ensurePrivateDir(dir: string, option = 'l3.dir'): void {
  // A file (or a link to one) in the way is refused below as a CacheConfigError, not a bare EEXIST.
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const link = lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== undefined && link.uid !== uid)
    throw new CacheConfigError(
      option,
      `a directory owned by the current user (uid ${uid})`,
      `${dir} owned by uid ${link.uid}`,
    );
  const st = link.isSymbolicLink() ? statSync(dir) : link;
  if (!st.isDirectory()) throw new CacheConfigError(option, 'a directory', `${dir} (not a directory)`);
  if (uid !== undefined && st.uid !== uid)
    throw new CacheConfigError(
      option,
      `a directory owned by the current user (uid ${uid})`,
      `${dir} owned by uid ${st.uid}`,
    );
  if ((st.mode & 0o077) !== 0) chmodSync(dir, DIR_MODE);
}

export class DiskTier {
  private readonly index = new Map<string, IndexEntry>();
  private totalBytes = 0;
  /** Bumped on every delete so a write that finishes after a delete removes its own file. */
  private readonly generation = new Map<string, number>();
  private readonly ready: Promise<void>;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly options: DiskTierOptions,
    private readonly counters: TierCounters,
  ) {
    ensurePrivateDir(options.dir);
    this.magic = options.macKey ? MAGIC_MAC : MAGIC;
    this.ready = this.load().catch(() => this.counters.error('io'));
  }

  private readonly magic: number;

  fileName(key: string): string {
    return createHash('sha256').update(`${this.options.scope}:${key}`).digest('hex');
  }

  /** SHA-256, or HMAC-SHA-256 with the key, over everything but the checksum field itself. */
  private checksum(file: Buffer): Buffer {
    const h = this.options.macKey ? createHmac('sha256', this.options.macKey) : createHash('sha256');
    return h.update(file.subarray(0, 12)).update(file.subarray(PRE)).digest();
  }

  private filePath(name: string): string {
    return path.join(this.options.dir, name);
  }

  /** The stored envelope, or null. Verifies magic, lengths, key and checksum. */
  async get(key: string, now: number): Promise<Buffer | null> {
    await this.ready;
    const name = this.fileName(key);
    const meta = this.index.get(name);
    if (!meta) return null;
    if (meta.staleUntil <= now) {
      await this.remove(name);
      this.counters.evicted('expired');
      return null;
    }
    return this.track(
      tracer.startActiveSpan('cache.l3.read', async (span) => {
        const start = performance.now();
        try {
          const file = await readFileOnce(this.filePath(name));
          const envelope = this.verify(file, key);
          if (!envelope) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: 'corrupt entry' });
            this.counters.error('corrupt');
            await this.remove(name);
            return null;
          }
          this.index.delete(name); // move to the most recently used end
          this.index.set(name, meta);
          this.counters.latency('read', performance.now() - start);
          return envelope;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            // Removed behind our back: forget it.
            this.forget(name);
            return null;
          }
          this.counters.error('io');
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          return null;
        } finally {
          span.end();
        }
      }),
    );
  }

  async set(key: string, envelope: Buffer, staleUntil: number, tags: readonly string[]): Promise<void> {
    await this.ready;
    const name = this.fileName(key);
    const gen = this.generation.get(name) ?? 0;
    const keyBytes = Buffer.from(key);
    const file = Buffer.allocUnsafe(PRE + keyBytes.length + envelope.length);
    file.writeUInt32BE(this.magic, 0);
    file.writeUInt32BE(keyBytes.length, 4);
    file.writeUInt32BE(envelope.length, 8);
    keyBytes.copy(file, PRE);
    envelope.copy(file, PRE + keyBytes.length);
    this.checksum(file).copy(file, 12);
    await this.track(
      tracer.startActiveSpan('cache.l3.write', async (span) => {
        const start = performance.now();
        const tmp = this.filePath(`${name}.${randomBytes(6).toString('hex')}.tmp`);
        try {
          await this.writeFile(tmp, file);
          await renameOnce(tmp, this.filePath(name));
          if ((this.generation.get(name) ?? 0) !== gen) {
            // Deleted while we were writing: the delete wins.
            await removeFile(this.filePath(name));
            return;
          }
          this.forget(name);
          this.index.set(name, { key, size: file.length, staleUntil, tags });
          this.totalBytes += file.length;
          this.counters.set();
          this.counters.latency('write', performance.now() - start);
          await this.evict();
        } catch (err) {
          this.counters.error('io');
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          await removeFile(tmp).catch(() => undefined);
        } finally {
          this.publishSize();
          span.end();
        }
      }),
    );
  }

  async delete(keys: readonly string[]): Promise<void> {
    await this.ready;
    let n = 0;
    for (const key of keys) {
      const name = this.fileName(key);
      this.generation.set(name, (this.generation.get(name) ?? 0) + 1);
      if (this.index.has(name)) {
        await this.remove(name);
        n++;
      }
    }
    this.counters.deleted(n);
  }

  async deleteByTags(tags: readonly string[]): Promise<string[]> {
    await this.ready;
    const wanted = new Set(tags);
    const keys: string[] = [];
    for (const entry of this.index.values()) if (entry.tags.some((t) => wanted.has(t))) keys.push(entry.key);
    await this.delete(keys);
    return keys;
  }

  async clear(): Promise<void> {
    await this.ready;
    await this.delete([...this.index.values()].map((e) => e.key));
  }

  async sweep(now: number): Promise<void> {
    await this.ready;
    for (const [name, entry] of [...this.index]) {
      if (entry.staleUntil <= now) {
        await this.remove(name);
        this.counters.evicted('expired');
      }
    }
  }

  /** Waits for writes in flight (close() flushes through this). */
  async flush(): Promise<void> {
    await this.ready;
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => undefined);
    return p;
  }

  /** Private file, never through a planted name ('wx'); re-creates the directory if it is gone. */
  private async writeFile(tmp: string, file: Buffer): Promise<void> {
    try {
      await writeNewFile(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      ensurePrivateDir(this.options.dir);
      this.counters.error('dir_recreated');
      await writeNewFile(tmp, file);
    }
  }

  private verify(file: Buffer, key: string): Buffer | null {
    if (file.length < PRE || file.readUInt32BE(0) !== this.magic) return null;
    const keyLen = file.readUInt32BE(4);
    const envLen = file.readUInt32BE(8);
    if (PRE + keyLen + envLen !== file.length) return null; // truncated or padded
    if (!timingSafeEqual(this.checksum(file), file.subarray(12, PRE))) return null;
    if (file.toString('utf8', PRE, PRE + keyLen) !== key) return null;
    return file.subarray(PRE + keyLen);
  }

  private async evict(): Promise<void> {
    while (this.totalBytes > this.options.maxBytes && this.index.size > 0) {
      const oldest = this.index.keys().next().value!;
      await this.remove(oldest);
      this.counters.evicted('bytes');
    }
  }

  private forget(name: string): void {
    const entry = this.index.get(name);
    if (!entry) return;
    this.index.delete(name);
    this.totalBytes -= entry.size;
  }

  private async remove(name: string): Promise<void> {
    this.forget(name);
    this.publishSize();
    await removeFile(this.filePath(name)).catch(() => this.counters.error('io'));
  }

  /** Builds the index from the directory: oldest access first; drops temp, expired and unreadable files. */
  private async load(): Promise<void> {
    const names = await fs.readdir(this.options.dir);
    const found: { name: string; entry: IndexEntry; atime: number }[] = [];
    const now = Date.now();
    for (const name of names) {
      const full = this.filePath(name);
      if (name.endsWith('.tmp')) {
        // Left by a crash mid-write; never renamed, so never visible.
        await fs.rm(full, { force: true }).catch(() => undefined);
        continue;
      }
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const head = await readHead(full, this.magic).catch(() => null);
      if (!head) continue;
      const key = head.key;
      if (key === null || this.fileName(key) !== name) {
        // Not ours (another namespace shares the dir) or unreadable header: leave others' files alone.
        if (key !== null || head.corrupt) {
          if (head.corrupt) {
            this.counters.error('corrupt');
            await fs.rm(full, { force: true }).catch(() => undefined);
          }
        }
        continue;
      }
      if (head.staleUntil <= now) {
        await fs.rm(full, { force: true }).catch(() => undefined);
        this.counters.evicted('expired');
        continue;
      }
      found.push({
        name,
        entry: { key, size: head.size, staleUntil: head.staleUntil, tags: head.tags },
        atime: head.mtime,
      });
    }
    found.sort((a, b) => a.atime - b.atime);
    for (const f of found) {
      this.index.set(f.name, f.entry);
      this.totalBytes += f.entry.size;
    }
    this.publishSize();
    await this.evict();
  }

  private publishSize(): void {
    this.counters.size(this.index.size, this.totalBytes);
  }
}

interface Head {
  key: string | null;
  corrupt: boolean;
  size: number;
  staleUntil: number;
  tags: string[];
  mtime: number;
}

/** Reads only the start of a file: enough for the key, expiry and tags. */
async function readHead(file: string, magic: number): Promise<Head> {
  const fh = await fs.open(file, 'r');
  try {
    const st = await fh.stat();
    const bad: Head = { key: null, corrupt: true, size: st.size, staleUntil: 0, tags: [], mtime: st.mtimeMs };
    const pre = Buffer.alloc(PRE);
    if ((await fh.read(pre, 0, PRE, 0)).bytesRead < PRE || pre.readUInt32BE(0) !== magic) return bad;
    const keyLen = pre.readUInt32BE(4);
    const envLen = pre.readUInt32BE(8);
    if (PRE + keyLen + envLen !== st.size || envLen < META) return bad;
    const kb = Buffer.alloc(keyLen + META);
    await fh.read(kb, 0, kb.length, PRE);
    const tagLen = kb.readUInt16LE(keyLen + 26);
    if (keyLen + META + tagLen > keyLen + envLen) return bad;
    const tb = Buffer.alloc(tagLen);
    if (tagLen) await fh.read(tb, 0, tagLen, PRE + keyLen + META);
    let tags: string[] = [];
    try {
      tags = tagLen ? (JSON.parse(tb.toString()) as string[]) : [];
    } catch {
      return bad;
    }
    return {
      key: kb.toString('utf8', 0, keyLen),
      corrupt: false,
      size: st.size,
      staleUntil: kb.readDoubleLE(keyLen + 18),
      tags,
      mtime: st.mtimeMs,
    };
  } finally {
    await fh.close();
  }
}

// The hot path's file calls through fs's callbacks, one promise each: fs.promises.writeFile and
// readFile are async functions that open a FileHandle and await every step — some twenty
// promises per call, each also paying the context propagation once a tracing SDK is on (the
// disk tier was the largest source of promises in the demo's task loop).
function readFileOnce(file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => readFile(file, (err, data) => (err ? reject(err) : resolve(data))));
}

/** A private file that must not exist yet ('wx': never through a name someone planted). */
function writeNewFile(file: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    writeFile(file, data, { mode: FILE_MODE, flag: 'wx' }, (err) => (err ? reject(err) : resolve())),
  );
}

function renameOnce(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => rename(from, to, (err) => (err ? reject(err) : resolve())));
}

function removeFile(file: string): Promise<void> {
  return new Promise((resolve, reject) => rm(file, { force: true }, (err) => (err ? reject(err) : resolve())));
}
