// L3: one file per entry in a directory, named by the SHA-256 of the namespaced key. Files are
// written to a temp name and renamed (atomic on POSIX), carry a checksum over key and envelope,
// and are indexed in memory (LRU order) at start-up, so a miss costs no syscall and the size
// limit can evict the least recently used. A corrupt or truncated file is a miss: deleted, counted.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { sha256Hex } from './keys';
import type { TierCounters } from './instruments';

const MAGIC = 0x50534333; // "PSC3"
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
    this.ready = this.load().catch(() => this.counters.error('io'));
  }

  fileName(key: string): string {
    return sha256Hex(`${this.options.scope}:${key}`);
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
          const file = await fs.readFile(this.filePath(name));
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
    file.writeUInt32BE(MAGIC, 0);
    file.writeUInt32BE(keyBytes.length, 4);
    file.writeUInt32BE(envelope.length, 8);
    keyBytes.copy(file, PRE);
    envelope.copy(file, PRE + keyBytes.length);
    checksum(file).copy(file, 12);
    await this.track(
      tracer.startActiveSpan('cache.l3.write', async (span) => {
        const start = performance.now();
        const tmp = this.filePath(`${name}.${randomBytes(6).toString('hex')}.tmp`);
        try {
          await fs.writeFile(tmp, file);
          await fs.rename(tmp, this.filePath(name));
          if ((this.generation.get(name) ?? 0) !== gen) {
            // Deleted while we were writing: the delete wins.
            await fs.rm(this.filePath(name), { force: true });
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
          await fs.rm(tmp, { force: true }).catch(() => undefined);
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

  private verify(file: Buffer, key: string): Buffer | null {
    if (file.length < PRE || file.readUInt32BE(0) !== MAGIC) return null;
    const keyLen = file.readUInt32BE(4);
    const envLen = file.readUInt32BE(8);
    if (PRE + keyLen + envLen !== file.length) return null; // truncated or padded
    if (!checksum(file).equals(file.subarray(12, PRE))) return null;
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
    await fs.rm(this.filePath(name), { force: true }).catch(() => this.counters.error('io'));
  }

  /** Builds the index from the directory: oldest access first; drops temp, expired and unreadable files. */
  private async load(): Promise<void> {
    await fs.mkdir(this.options.dir, { recursive: true });
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
      const head = await readHead(full).catch(() => null);
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

function checksum(file: Buffer): Buffer {
  // Over everything but the checksum field itself.
  return Buffer.from(sha256Hex(Buffer.concat([file.subarray(0, 12), file.subarray(PRE)])), 'hex');
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
async function readHead(file: string): Promise<Head> {
  const fh = await fs.open(file, 'r');
  try {
    const st = await fh.stat();
    const bad: Head = { key: null, corrupt: true, size: st.size, staleUntil: 0, tags: [], mtime: st.mtimeMs };
    const pre = Buffer.alloc(PRE);
    if ((await fh.read(pre, 0, PRE, 0)).bytesRead < PRE || pre.readUInt32BE(0) !== MAGIC) return bad;
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
