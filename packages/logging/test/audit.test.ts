import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import {
  createAuditLogger,
  createLogger,
  verifyAuditLog,
  AuditLogError,
  REDACTED,
  type AuditLogger,
} from '@periscope/logging';
import { capture } from './helpers';

let dir: string;
const open: AuditLogger[] = [];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-audit-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function fresh(): string {
  return path.join(dir, `audit-${++n}.jsonl`);
}
function audit(file: string): AuditLogger {
  const a = createAuditLogger({ file, service: 'billing' });
  open.push(a);
  return a;
}
function writeSome(file: string, count: number): void {
  const a = audit(file);
  for (let i = 1; i <= count; i++) a.log('refund.approved', { refund_id: i, amount: i * 10 });
}
function lines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n');
}
function rewrite(file: string, ls: string[]): void {
  fs.writeFileSync(file, ls.join('\n') + '\n');
}

describe('audit log', () => {
  it('writes sequenced, hash-chained, redacted records synchronously, and verifies clean', async () => {
    const file = fresh();
    const a = audit(file);
    const r1 = a.log('user.login', { user: 'ada', password: 'hunter2' });
    const r2 = a.log('key.rotated', { key_id: 'k1' });
    // on disk before log() returned
    const onDisk = lines(file).map((l) => JSON.parse(l));
    expect(onDisk).toHaveLength(2);
    expect(onDisk[0]).toMatchObject({
      seq: 1,
      event: 'user.login',
      'service.name': 'billing',
      attributes: { user: 'ada', password: REDACTED },
      prev_hash: '0'.repeat(64),
      hash: r1.hash,
    });
    expect(onDisk[1]).toMatchObject({ seq: 2, prev_hash: r1.hash, hash: r2.hash });
    expect(r1.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await verifyAuditLog(file)).toEqual({ ok: true, records: 2, lastSeq: 2 });
  });

  it('continues the sequence and chain when reopened', async () => {
    const file = fresh();
    writeSome(file, 3);
    await open.pop()!.close();
    const again = audit(file);
    expect(again.lastSeq).toBe(3);
    expect(again.log('after.restart').seq).toBe(4);
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 4 });
  });

  it('reports an edited record', async () => {
    const file = fresh();
    writeSome(file, 5);
    const ls = lines(file);
    ls[2] = ls[2].replace('"amount":30', '"amount":3000');
    rewrite(file, ls);
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      lastSeq: 2,
      firstInvalid: { line: 3, seq: 3, reason: 'tampered' },
    });
  });

  it('reports an edited record whose hash was recomputed, through the broken chain', async () => {
    const file = fresh();
    writeSome(file, 4);
    const ls = lines(file);
    const { hash: _old, ...forged } = JSON.parse(ls[1]);
    forged.attributes.amount = 1;
    // The forger recomputes record 2's own hash, but cannot fix record 3's prev_hash without rewriting everything after.
    const hash = createHash('sha256')
      .update(forged.prev_hash)
      .update('\n')
      .update(JSON.stringify(forged))
      .digest('hex');
    ls[1] = JSON.stringify({ ...forged, hash });
    rewrite(file, ls);
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      lastSeq: 2,
      firstInvalid: { line: 3, seq: 3, reason: 'chain_broken' },
    });
  });

  it('reports a missing record and a truncated line', async () => {
    const file = fresh();
    writeSome(file, 5);
    const ls = lines(file);
    rewrite(file, [ls[0], ls[1], ls[3], ls[4]]);
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      firstInvalid: { line: 3, seq: 4, reason: 'missing_record' },
    });
    rewrite(file, [ls[0], ls[1].slice(0, 40)]);
    expect(await verifyAuditLog(file)).toMatchObject({ ok: false, firstInvalid: { line: 2, reason: 'unparseable' } });
  });

  it('is reachable from a logger (service and redactor bound) and closed by shutdown()', async () => {
    const file = fresh();
    const logger = createLogger({ service: 'api', format: 'json', destination: capture().stream });
    const a = logger.auditLogger({ file });
    a.log('token.issued', { token: 'abc', note: 'sk-abcdefghijklmnop1234' });
    await logger.shutdown();
    expect(() => a.log('late')).toThrow(AuditLogError);
    expect(JSON.parse(lines(file)[0])).toMatchObject({
      'service.name': 'api',
      attributes: { token: REDACTED, note: REDACTED },
    });
  });

  it('refuses a second writer on the same file and reports unreadable files with a typed error', async () => {
    const file = fresh();
    audit(file);
    expect(() => createAuditLogger({ file })).toThrow(AuditLogError);
    await expect(verifyAuditLog(path.join(dir, 'nope.jsonl'))).rejects.toThrow(AuditLogError);
  });
});
