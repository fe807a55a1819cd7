// A protobuf writer for the OTLP requests our packages send (metrics, logs): the OpenTelemetry
// serializers take the SDKs' data models, which these packages must not pull in. Only what OTLP
// needs: varints, fixed64/32, doubles, length-delimited strings, bytes and nested messages written
// in place. Part of core because two floor-1 siblings encode OTLP and may not import each other;
// each caller's test decodes its bodies with the generated code of the official definitions.

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

export class ProtoWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(v: number): void {
    this.ensure(10);
    while (v > 0x7f) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** An unsigned integer or enum field as a varint. */
  uint(field: number, v: number): void {
    this.tag(field, VARINT);
    this.varint(v);
  }

  /** int64 as a varint (two's complement for negatives, ten bytes). */
  int64(field: number, v: number): void {
    this.tag(field, VARINT);
    let u = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (u > 0x7fn) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  fixed64(field: number, v: bigint): void {
    this.tag(field, I64);
    this.ensure(8);
    this.pos = this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.pos);
  }

  fixed32(field: number, v: number): void {
    this.tag(field, I32);
    this.ensure(4);
    this.pos = this.buf.writeUInt32LE(v >>> 0, this.pos);
  }

  /** A bytes field from hex text, written in place (no Buffer per trace or span id). */
  hex(field: number, text: string): void {
    const n = text.length >>> 1;
    this.tag(field, LEN);
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(text, this.pos, n, 'hex');
  }

  double(field: number, v: number): void {
    this.tag(field, I64);
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }

  bool(field: number, v: boolean): void {
    this.tag(field, VARINT);
    this.varint(v ? 1 : 0);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  string(field: number, s: string): void {
    if (s === '') return;
    const n = Buffer.byteLength(s, 'utf8');
    this.tag(field, LEN);
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A string field even when empty (an AnyValue's string_value marks the value as present). */
  stringAlways(field: number, s: string): void {
    if (s === '') this.bytes(field, new Uint8Array(0));
    else this.string(field, s);
  }

  /**
   * A nested message written in place: one byte is reserved for its length and the body is moved
   * only when the length needs more (messages are mostly short), so nothing is allocated per message.
   */
  message(field: number, write: (w: ProtoWriter) => void): void {
    this.tag(field, LEN);
    this.ensure(1);
    const at = this.pos++;
    write(this);
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    let size = 1;
    for (let v = len; v >= 0x80; v = Math.floor(v / 128)) size++;
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    const end = this.pos + size - 1;
    this.pos = at;
    this.varint(len);
    this.pos = end;
  }

  packedFixed64(field: number, values: ArrayLike<number>): void {
    this.tag(field, LEN);
    this.varint(values.length * 8);
    this.ensure(values.length * 8);
    for (let i = 0; i < values.length; i++) this.pos = this.buf.writeBigUInt64LE(BigInt(values[i]), this.pos);
  }

  packedDouble(field: number, values: ArrayLike<number>): void {
    this.tag(field, LEN);
    this.varint(values.length * 8);
    this.ensure(values.length * 8);
    for (let i = 0; i < values.length; i++) this.pos = this.buf.writeDoubleLE(values[i], this.pos);
  }

  raw(data: Buffer): void {
    this.ensure(data.length);
    this.pos += data.copy(this.buf, this.pos);
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
