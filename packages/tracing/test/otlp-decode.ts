// A small protobuf wire-format reader for ExportTraceServiceRequest, so the OTLP receiver test
// decodes the real request body (field numbers from opentelemetry/proto trace/v1 and common/v1).
type Field = { no: number; wire: number; value: bigint | Buffer };

function readVarint(buf: Buffer, pos: { i: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos.i++];
    if (b === undefined) throw new Error('truncated varint');
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return result;
    shift += 7n;
  }
}

export function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  const pos = { i: 0 };
  while (pos.i < buf.length) {
    const tag = Number(readVarint(buf, pos));
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, wire, value: readVarint(buf, pos) });
    else if (wire === 1) {
      out.push({ no, wire, value: buf.readBigUInt64LE(pos.i) });
      pos.i += 8;
    } else if (wire === 5) {
      out.push({ no, wire, value: BigInt(buf.readUInt32LE(pos.i)) });
      pos.i += 4;
    } else if (wire === 2) {
      const len = Number(readVarint(buf, pos));
      out.push({ no, wire, value: buf.subarray(pos.i, pos.i + len) });
      pos.i += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const bytes = (f: Field[], no: number) => f.filter((x) => x.no === no).map((x) => x.value as Buffer);
const str = (f: Field[], no: number) => bytes(f, no)[0]?.toString('utf8');
const int = (f: Field[], no: number) => f.find((x) => x.no === no)?.value as bigint | undefined;

export type AnyValue = string | boolean | number | AnyValue[] | undefined;

function anyValue(buf: Buffer): AnyValue {
  const f = fields(buf)[0];
  if (!f) return undefined;
  switch (f.no) {
    case 1:
      return (f.value as Buffer).toString('utf8');
    case 2:
      return f.value === 1n;
    case 3:
      return Number(BigInt.asIntN(64, f.value as bigint));
    case 4: {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(f.value as bigint);
      return b.readDoubleLE(0);
    }
    case 5:
      return bytes(fields(f.value as Buffer), 1).map(anyValue);
    default:
      return undefined;
  }
}

function attributes(f: Field[], no: number): Record<string, AnyValue> {
  const out: Record<string, AnyValue> = {};
  for (const kv of bytes(f, no)) {
    const k = fields(kv);
    out[str(k, 1) ?? ''] = anyValue(bytes(k, 2)[0] ?? Buffer.alloc(0));
  }
  return out;
}

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, AnyValue>;
  status: { code: number; message?: string };
  events: { name: string; attributes: Record<string, AnyValue> }[];
  scope: string;
  resource: Record<string, AnyValue>;
}

export function decodeExportTraceServiceRequest(body: Buffer): DecodedSpan[] {
  const spans: DecodedSpan[] = [];
  for (const rs of bytes(fields(body), 1)) {
    const rsf = fields(rs);
    const resource = attributes(fields(bytes(rsf, 1)[0] ?? Buffer.alloc(0)), 1);
    for (const ss of bytes(rsf, 2)) {
      const ssf = fields(ss);
      const scope = str(fields(bytes(ssf, 1)[0] ?? Buffer.alloc(0)), 1) ?? '';
      for (const sp of bytes(ssf, 2)) {
        const f = fields(sp);
        const status = fields(bytes(f, 15)[0] ?? Buffer.alloc(0));
        const parent = bytes(f, 4)[0];
        spans.push({
          traceId: bytes(f, 1)[0].toString('hex'),
          spanId: bytes(f, 2)[0].toString('hex'),
          ...(parent && parent.length ? { parentSpanId: parent.toString('hex') } : {}),
          name: str(f, 5) ?? '',
          kind: Number(int(f, 6) ?? 0n),
          startTimeUnixNano: int(f, 7) ?? 0n,
          endTimeUnixNano: int(f, 8) ?? 0n,
          attributes: attributes(f, 9),
          status: { code: Number(int(status, 3) ?? 0n), ...(str(status, 2) ? { message: str(status, 2) } : {}) },
          events: bytes(f, 11).map((e) => {
            const ef = fields(e);
            return { name: str(ef, 2) ?? '', attributes: attributes(ef, 3) };
          }),
          scope,
          resource,
        });
      }
    }
  }
  return spans;
}
