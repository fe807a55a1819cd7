// Audit log: an append-only JSON-lines file where every record carries a sequence number and
// the SHA-256 of the previous record, so an edited, reordered or deleted line breaks the chain.
// Writes are synchronous on purpose: an audit record is on its way to disk before log() returns,
// and it is never sampled, rate limited or buffered away.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createHash } from 'node:crypto';
import { AuditLogError, LoggingConfigError } from './errors';
import { createRedactor, type Redactor } from '@periscope/core';

export const AUDIT_GENESIS_HASH = '0'.repeat(64);

export interface AuditLoggerOptions {
  /** The JSON-lines file; created if missing, continued (sequence and chain) if present. */
  file: string;
  /** `service.name` on each record. */
  service?: string;
  /** Redactor for fields and event names (default rules when omitted). */
  redactor?: Redactor;
  /** fsync after every record (slower, survives power loss). Default false. */
  fsync?: boolean;
}

export interface AuditRecord {
  seq: number;
  timestamp: string;
  'service.name'?: string;
  event: string;
  attributes: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface AuditLogger {
  readonly file: string;
  /** Sequence number of the last record written (0 when none). */
  readonly lastSeq: number;
  /** Appends one record and returns it. Throws AuditLogError when it cannot be written. */
  log(event: string, fields?: Record<string, unknown>): AuditRecord;
  /** Closes the file. Idempotent. */
  close(): Promise<void>;
}

export type AuditProblem = 'unparseable' | 'missing_record' | 'chain_broken' | 'tampered';

export interface AuditVerification {
  ok: boolean;
  /** Records read (including the bad one, if any). */
  records: number;
  lastSeq: number;
  /** The first problem found, if any. */
  firstInvalid?: { line: number; seq?: number; reason: AuditProblem; detail: string };
}

function hashOf(prevHash: string, body: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/** The text the hash covers: the record as written, without its `hash` field. */
function bodyOf(record: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = record;
  return JSON.stringify(rest);
}

const openFiles = new Set<string>();

function readLastLine(file: string): string | undefined {
  const size = fs.statSync(file).size;
  if (size === 0) return undefined;
  const fd = fs.openSync(file, 'r');
  try {
    // Records are small; a 1 MiB tail always holds the last complete one.
    const len = Math.min(size, 1 << 20);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const lines = buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    return lines[lines.length - 1];
  } finally {
    fs.closeSync(fd);
  }
}

/** Where an existing file's chain ends (sequence and hash of its last record), or the genesis. */
function continueChain(file: string): { seq: number; prevHash: string } {
  try {
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      return { seq: 0, prevHash: AUDIT_GENESIS_HASH };
    }
    const last = readLastLine(file);
    if (last === undefined) return { seq: 0, prevHash: AUDIT_GENESIS_HASH };
    const parsed = JSON.parse(last) as Partial<AuditRecord>;
    if (typeof parsed.seq !== 'number' || typeof parsed.hash !== 'string')
      throw new Error('last record has no seq/hash');
    return { seq: parsed.seq, prevHash: parsed.hash };
  } catch (err) {
    throw new AuditLogError(
      `cannot continue audit log ${file}: ${err instanceof Error ? err.message : String(err)} (run verifyAuditLog)`,
      { cause: err },
    );
  }
}

function openForAppend(file: string): number {
  try {
    return fs.openSync(file, 'a', 0o600);
  } catch (err) {
    throw new AuditLogError(`cannot open audit log ${file}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

export function createAuditLogger(options: AuditLoggerOptions): AuditLogger {
  if (!options || typeof options.file !== 'string' || options.file === '')
    throw new LoggingConfigError('file', 'a path to a JSON-lines file ({ file: string })', options?.file);
  const file = path.resolve(options.file);
  if (openFiles.has(file))
    throw new AuditLogError(
      `audit log ${file} is already open in this process; share one AuditLogger so the chain stays linear`,
    );
  const redactor = options.redactor ?? createRedactor();

  let { seq, prevHash } = continueChain(file);
  let fd: number | undefined = openForAppend(file);
  openFiles.add(file);

  return {
    file,
    get lastSeq() {
      return seq;
    },
    log(event: string, fields?: Record<string, unknown>): AuditRecord {
      if (fd === undefined) throw new AuditLogError(`audit log ${file} is closed`);
      if (typeof event !== 'string' || event === '')
        throw new AuditLogError('audit event name must be a non-empty string');
      const unsigned: Omit<AuditRecord, 'hash'> = {
        seq: seq + 1,
        timestamp: new Date().toISOString(),
        ...(options.service ? { 'service.name': options.service } : {}),
        event: redactor.redactString(event),
        attributes: (fields === undefined ? {} : redactor.redact(fields)) as Record<string, unknown>,
        prev_hash: prevHash,
      };
      const body = JSON.stringify(unsigned);
      const hash = hashOf(prevHash, body);
      // Same key order as `unsigned` plus hash: bodyOf() of the parsed line gives `body` back.
      const line = `${body.slice(0, -1)},"hash":"${hash}"}\n`;
      try {
        fs.writeSync(fd, line);
        if (options.fsync) fs.fsyncSync(fd);
      } catch (err) {
        throw new AuditLogError(
          `cannot append to audit log ${file}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
      seq++;
      prevHash = hash;
      return { ...unsigned, hash };
    },
    async close(): Promise<void> {
      if (fd === undefined) return;
      const f = fd;
      fd = undefined;
      openFiles.delete(file);
      await new Promise<void>((resolve) => fs.close(f, () => resolve()));
    },
  };
}

/** Reads an audit log and reports the first missing, reordered, edited or unreadable record. */
export async function verifyAuditLog(file: string): Promise<AuditVerification> {
  let stream: fs.ReadStream;
  try {
    await fs.promises.access(file, fs.constants.R_OK);
    stream = fs.createReadStream(file, { encoding: 'utf8' });
  } catch (err) {
    throw new AuditLogError(`cannot read audit log ${file}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let records = 0;
  let lineNo = 0;
  let expectedSeq = 1;
  let prevHash = AUDIT_GENESIS_HASH;
  const fail = (reason: AuditProblem, detail: string, seq?: number): AuditVerification => ({
    ok: false,
    records,
    lastSeq: expectedSeq - 1,
    firstInvalid: { line: lineNo, seq, reason, detail },
  });
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      records++;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return fail('unparseable', 'line is not valid JSON');
      }
      const seq = rec.seq;
      if (typeof seq !== 'number' || typeof rec.hash !== 'string' || typeof rec.prev_hash !== 'string')
        return fail('unparseable', 'record lacks seq, prev_hash or hash');
      if (seq !== expectedSeq) {
        return fail(
          'missing_record',
          seq > expectedSeq
            ? `expected seq ${expectedSeq}, found ${seq}: ${seq - expectedSeq} record(s) missing`
            : `expected seq ${expectedSeq}, found ${seq}: out of order or duplicated`,
          seq,
        );
      }
      if (rec.prev_hash !== prevHash)
        return fail(
          'chain_broken',
          `prev_hash does not match the hash of record ${seq - 1}: that record was edited or replaced`,
          seq,
        );
      if (hashOf(prevHash, bodyOf(rec)) !== rec.hash)
        return fail('tampered', `record ${seq} does not match its hash: it was edited`, seq);
      prevHash = rec.hash;
      expectedSeq++;
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  return { ok: true, records, lastSeq: expectedSeq - 1 };
}
