// Values cross tiers as bytes: an envelope (timestamps, tags, compression flag) around the
// serializer's payload. The default serializer writes plain JSON data (objects, arrays, strings,
// finite numbers, booleans, null: most LLM responses) as JSON, which parses several times faster
// than anything else here, and everything else with V8's structured clone, which round-trips
// Buffers, typed arrays (Float32Array embeddings), Dates, Maps, Sets, bigints, undefined and -0,
// and rejects what cannot be stored (functions, symbols) instead of silently dropping it.
import v8 from 'node:v8';
import zlib from 'node:zlib';
import { CacheSerializationError } from './errors';

export interface Serializer {
  serialize(value: unknown): Buffer;
  deserialize(bytes: Buffer): unknown;
}

export const v8Serializer: Serializer = {
  serialize(value) {
    try {
      return v8.serialize(value);
    } catch (err) {
      throw new CacheSerializationError(`value cannot be serialized: ${(err as Error).message}`, { cause: err });
    }
  },
  deserialize(bytes) {
    return v8.deserialize(bytes);
  },
};

/** V8 payloads start with its version tag; JSON text never does. */
const V8_TAG = 0xff;

/** JSON for plain data, V8 structured clone for the rest; tells them apart by the first byte. */
export const defaultSerializer: Serializer = {
  serialize(value) {
    return isPlainJson(value) ? Buffer.from(JSON.stringify(value)) : v8Serializer.serialize(value);
  },
  deserialize(bytes) {
    return bytes[0] === V8_TAG ? v8.deserialize(bytes) : JSON.parse(bytes.toString('utf8'));
  },
};

/** True when JSON round-trips the value exactly. Gives up (→ V8) past a node budget, so cycles cost little. */
export function isPlainJson(value: unknown): boolean {
  const budget = { left: 10_000 };
  return plain(value, budget);
}

function plain(v: unknown, budget: { left: number }): boolean {
  if (--budget.left < 0) return false;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object':
      break;
    default:
      return false; // undefined, bigint, function, symbol
  }
  if (v === null) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!(i in v) || !plain(v[i], budget)) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false; // Date, Map, Buffer, class instances…
  for (const k in v) if (!plain((v as Record<string, unknown>)[k], budget)) return false;
  return true;
}

/** What every tier knows about a stored value. Times are epoch milliseconds. */
export interface EntryMeta {
  createdAt: number;
  /** Fresh until this instant. */
  expiresAt: number;
  /** Servable as stale (grace) until this instant; >= expiresAt. */
  staleUntil: number;
  tags: readonly string[];
}

const FORMAT = 1;
const FLAG_DEFLATE = 1;
const HEADER = 2 + 8 * 3 + 2; // format, flags, 3×f64, u16 tag bytes
/** Compressed bodies above this size are inflated on the thread pool, not on the event loop. */
export const ASYNC_INFLATE_ABOVE_BYTES = 16 * 1024;

export interface Decoded {
  meta: EntryMeta;
  value: unknown;
}

interface Parsed {
  meta: EntryMeta;
  body: Buffer;
  deflated: boolean;
}

export class Codec {
  constructor(
    private readonly serializer: Serializer,
    private readonly compressAboveBytes: number,
    /** An entry that inflates past this is corrupt (a decompression bomb or garbage). */
    private readonly maxDecompressedBytes = 8 * 2 ** 20,
  ) {}

  /** Throws CacheSerializationError for values the serializer refuses. */
  payload(value: unknown): Buffer {
    const raw = this.serializer.serialize(value);
    if (!Buffer.isBuffer(raw) && !((raw as unknown) instanceof Uint8Array))
      throw new CacheSerializationError('serializer.serialize must return a Buffer');
    return Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  }

  encode(payload: Buffer, meta: EntryMeta): Buffer {
    let flags = 0;
    let body = payload;
    if (this.compressAboveBytes > 0 && payload.length > this.compressAboveBytes) {
      // Level 1: most of the size win for a fraction of the CPU of the default level.
      body = zlib.deflateRawSync(payload, { level: 1 });
      flags |= FLAG_DEFLATE;
    }
    const tags = meta.tags.length ? Buffer.from(JSON.stringify(meta.tags)) : Buffer.alloc(0);
    if (tags.length > 0xffff) throw new CacheSerializationError('tags are too long (more than 65535 bytes of JSON)');
    const out = Buffer.allocUnsafe(HEADER + tags.length + body.length);
    out.writeUInt8(FORMAT, 0);
    out.writeUInt8(flags, 1);
    out.writeDoubleLE(meta.createdAt, 2);
    out.writeDoubleLE(meta.expiresAt, 10);
    out.writeDoubleLE(meta.staleUntil, 18);
    out.writeUInt16LE(tags.length, 26);
    tags.copy(out, HEADER);
    body.copy(out, HEADER + tags.length);
    return out;
  }

  /** True when decode() would inflate a large body: use decodeAsync() so the event loop is not blocked. */
  needsAsync(bytes: Buffer): boolean {
    return (
      bytes.length > HEADER + ASYNC_INFLATE_ABOVE_BYTES && bytes.length >= HEADER && (bytes[1] & FLAG_DEFLATE) !== 0
    );
  }

  /** Reads an envelope; throws CacheSerializationError (and nothing else) on anything malformed. */
  decode(bytes: Buffer): Decoded {
    try {
      const p = this.parse(bytes);
      const body = p.deflated
        ? zlib.inflateRawSync(p.body, { maxOutputLength: this.maxDecompressedBytes })
        : this.checkSize(p.body);
      return { meta: p.meta, value: this.serializer.deserialize(body) };
    } catch (err) {
      throw this.unreadable(err);
    }
  }

  /** decode() with the inflate on the thread pool; rejects with CacheSerializationError only. */
  async decodeAsync(bytes: Buffer): Promise<Decoded> {
    try {
      const p = this.parse(bytes);
      const body = p.deflated ? await inflate(p.body, this.maxDecompressedBytes) : this.checkSize(p.body);
      return { meta: p.meta, value: this.serializer.deserialize(body) };
    } catch (err) {
      throw this.unreadable(err);
    }
  }

  private parse(bytes: Buffer): Parsed {
    if (!Buffer.isBuffer(bytes) || bytes.length < HEADER || bytes.readUInt8(0) !== FORMAT)
      throw new Error('unknown envelope format');
    const flags = bytes.readUInt8(1);
    if ((flags & ~FLAG_DEFLATE) !== 0) throw new Error('unknown envelope flags');
    const tagLen = bytes.readUInt16LE(26);
    if (HEADER + tagLen > bytes.length) throw new Error('truncated envelope');
    const tags: unknown = tagLen ? JSON.parse(bytes.subarray(HEADER, HEADER + tagLen).toString()) : [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new Error('malformed tags');
    const meta: EntryMeta = {
      createdAt: bytes.readDoubleLE(2),
      expiresAt: bytes.readDoubleLE(10),
      staleUntil: bytes.readDoubleLE(18),
      tags: tags as string[],
    };
    if (![meta.createdAt, meta.expiresAt, meta.staleUntil].every(Number.isFinite)) throw new Error('malformed times');
    return { meta, body: bytes.subarray(HEADER + tagLen), deflated: (flags & FLAG_DEFLATE) !== 0 };
  }

  private checkSize(body: Buffer): Buffer {
    if (body.length > this.maxDecompressedBytes)
      throw Object.assign(new RangeError('value is larger than maxDecompressedBytes'), {
        code: 'ERR_BUFFER_TOO_LARGE',
      });
    return body;
  }

  private unreadable(err: unknown): CacheSerializationError {
    const tooLarge = (err as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE';
    const why = tooLarge
      ? `it inflates past maxDecompressedBytes=${this.maxDecompressedBytes}`
      : String((err as Error)?.message ?? err);
    return new CacheSerializationError(`stored entry cannot be read: ${why}`, { cause: err });
  }
}

function inflate(body: Buffer, maxOutputLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    zlib.inflateRaw(body, { maxOutputLength }, (err, out) => (err ? reject(err) : resolve(out))),
  );
}

/** Rough in-memory size of a value, for L1 byte limits when no serialized form is at hand. */
export function estimateSize(value: unknown, seen = new Set<object>()): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
    case 'undefined':
      return 4;
    case 'object':
      break;
    default:
      return 8;
  }
  if (value === null) return 4;
  if (seen.has(value)) return 0;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return 64 + value.byteLength;
  if (value instanceof Date) return 24;
  let size = 32;
  if (Array.isArray(value)) {
    for (const v of value) size += 8 + estimateSize(v, seen);
  } else if (value instanceof Map) {
    for (const [k, v] of value) size += 16 + estimateSize(k, seen) + estimateSize(v, seen);
  } else if (value instanceof Set) {
    for (const v of value) size += 8 + estimateSize(v, seen);
  } else {
    for (const k of Object.keys(value))
      size += 8 + k.length * 2 + estimateSize((value as Record<string, unknown>)[k], seen);
  }
  return size;
}
