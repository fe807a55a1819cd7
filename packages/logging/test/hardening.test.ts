// Hostile input: odd replies from a log receiver, extra arguments to a log call, and control
// characters in what the pretty layout prints (issue 11, items 2, 9 and 15).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import winston from 'winston';
import Transport from 'winston-transport';
import fc from 'fast-check';
import {
  createHttpTransport,
  createLogger,
  toPretty,
  toOtelJson,
  REDACTED,
  type LogRecord,
  type PeriscopeLogger,
} from '@periscope/logging';
import { bulkOutcome } from '../src/shipping-format';
import { createJsonRenderer } from '../src/layouts';
import { capture, tick } from './helpers';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const T0 = Date.UTC(2026, 0, 1);
const rec = (i: number): LogRecord => ({ time: T0 + i, level: 'info', service: 's', message: `m${i}`, attributes: {} });

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Reply = (res: http.ServerResponse) => void;
/** A real receiver answering each request with the next scripted reply. */
async function receiver(replies: Reply[]): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => (replies.shift() ?? ((r) => r.writeHead(200).end('{}')))(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the shipper survives any reply', () => {
  const bodies: [string, string | Buffer][] = [
    ['a null body', 'null'],
    ['items: [null]', '{"errors":true,"items":[null]}'],
    [
      'items with null actions and odd statuses',
      '{"errors":true,"items":[{"create":null},5,"x",{"create":{"status":"429"}}]}',
    ],
    ['items that is not an array', '{"errors":true,"items":{"0":{"create":{"status":400}}}}'],
    ['a JSON array', '[1,2,3]'],
    ['a number', '42'],
    ['text that is not JSON', '<html>gateway</html>'],
    ['an empty body', ''],
    ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
    ['a 12 MB body', `{"errors":true,"items":[${'{"create":{"status":400}},'.repeat(480_000)}null]}`],
  ];
  it.each(bodies)('a 200 with %s counts the batch as sent, and the process goes on', async (_name, body) => {
    const url = await receiver([(res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body)]);
    const t = createHttpTransport({ target: 'elasticsearch', url, batchSize: 2, flushIntervalMs: 10 });
    cleanup.push(() => t.shutdown());
    t.enqueue(rec(1));
    t.enqueue(rec(2));
    await until(() => t.stats().requests >= 1 && t.stats().inFlight === 0);
    expect(t.stats()).toMatchObject({ sent: 2, dropped: { total: 0 } });
  });

  it('retries a reply cut off in the middle of its body, then delivers', async () => {
    const url = await receiver([
      (res) => {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('{"errors":');
        setTimeout(() => res.socket?.destroy(), 20);
      },
    ]);
    const t = createHttpTransport({ target: 'elasticsearch', url, batchSize: 1, flushIntervalMs: 10, retryBaseMs: 10 });
    cleanup.push(() => t.shutdown());
    t.enqueue(rec(1));
    await until(() => t.stats().sent === 1);
    expect(t.stats()).toMatchObject({ retries: 1, dropped: { total: 0 } });
  });

  it('reads each item of any JSON reply without throwing (property)', () => {
    const batch = [rec(1), rec(2), rec(3)];
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (items, wrap) => {
        const text = JSON.stringify(wrap ? { errors: true, items } : items);
        const out = bulkOutcome(batch, text);
        expect(out.retry.length + out.rejected).toBeLessThanOrEqual(batch.length);
      }),
    );
  });
});

describe('extra arguments of a log call', () => {
  const loggers: PeriscopeLogger[] = [];
  afterEach(async () => {
    await Promise.all(loggers.splice(0).map((l) => l.shutdown()));
  });
  function make() {
    const out = capture();
    const seen: Record<string | symbol, unknown>[] = [];
    class Collect extends Transport {
      override log(info: Record<string | symbol, unknown>, next: () => void): void {
        seen.push(info);
        next();
      }
    }
    const logger = createLogger({
      service: 's',
      format: 'json',
      transports: [new winston.transports.Stream({ stream: out.stream }), new Collect()],
    });
    loggers.push(logger);
    return { logger, out, seen };
  }

  it("formats them util.format-style: logger.info('%s', x) writes x", async () => {
    const { logger, out } = make();
    logger.info('%s', 'hello');
    logger.info('user %s has %d items (%i%%)', 'ada', 3, 42.7);
    logger.info('plain', 'extra', 7, { k: 'v' });
    logger.info('fields then extra', { a: 1 }, 'more');
    logger.info('100%% sure', { kept: 1 }); // winston does not merge fields after a placeholder: nothing is lost
    await tick();
    const [a, b, c, d, e] = out.json();
    expect(a.body).toBe('hello');
    expect(b.body).toBe('user ada has 3 items (42%)');
    expect(c.body).toBe("plain extra 7 { k: 'v' }");
    expect(d).toMatchObject({ body: 'fields then extra more', attributes: { a: 1 } });
    expect(e.body).toBe('100% sure { kept: 1 }');
  });

  it('redacts them and never hands the raw arguments to transports', async () => {
    const { logger, out, seen } = make();
    logger.info('login %s', 'password=hunter2');
    logger.info('request %o', { user: 'ada', token: 'tok-secret-1' });
    logger.info('with fields', { a: 1 }, { apiKey: 'key-secret-2' }, 'Bearer abcdefgh12345678');
    await tick();
    const text = out.lines.join('\n') + JSON.stringify(seen.map((i) => ({ ...i })));
    for (const secret of ['hunter2', 'tok-secret-1', 'key-secret-2', 'abcdefgh12345678'])
      expect(text).not.toContain(secret);
    expect(out.json()[0].body).toBe(`login password=${REDACTED}`);
    expect(out.json()[1].body).toContain(`token: '${REDACTED}'`);
    expect(out.json()[2].body).toContain(`apiKey: '${REDACTED}'`);
    for (const info of seen) expect(info[Symbol.for('splat')]).toBeUndefined();
  });
});

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const OUR_COLORS = /\x1b\[[0-9;]*m/g; // eslint-disable-line no-control-regex

describe('the pretty layout escapes control characters', () => {
  const text = fc.string({ unit: 'binary', maxLength: 40 });
  const record = fc.record({
    message: text,
    service: text,
    logger: fc.option(text, { nil: undefined }),
    attributes: fc.dictionary(text, fc.oneof(text, fc.integer(), fc.array(text, { maxLength: 3 }))),
    error: fc.option(fc.record({ type: text, message: text }), { nil: undefined }),
    traceId: fc.option(text, { nil: undefined }),
  });

  it('writes no control character from any field (colors off), and only its own color codes (colors on)', () => {
    fc.assert(
      fc.property(record, (r) => {
        const full: LogRecord = { time: T0, level: 'info', ...r };
        expect(toPretty(full, false)).not.toMatch(UNSAFE);
        expect(toPretty(full, true).replace(OUR_COLORS, '')).not.toMatch(UNSAFE);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves text without control characters as it is', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 60 }).filter((s) => !UNSAFE.test(s)),
        (message) => {
          const line = toPretty({ time: T0, level: 'info', service: 's', message, attributes: {} }, false);
          expect(line.endsWith(`[s] ${message}`)).toBe(true);
        },
      ),
    );
  });

  it('turns a forged second line into one visible line', async () => {
    const out = capture();
    const logger = createLogger({ service: 'svc', format: 'pretty', colors: false, destination: out.stream });
    cleanup.push(() => logger.shutdown());
    logger.warn('upload done\r\x1b[2K12:00:00.000 INFO  [svc] check passed\nnext', { file: 'a\x1b[31mb' });
    await tick();
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toContain('upload done\\r\\u001b[2K12:00:00.000 INFO  [svc] check passed\\nnext');
    expect(out.lines[0]).toContain('file=a\\u001b[31mb');
    expect(out.lines[0]).not.toMatch(UNSAFE);
  });
});

describe('the JSON layout escapes everything JSON needs (property)', () => {
  const text = fc.string({ unit: 'binary', maxLength: 40 });
  const value = fc.oneof(
    text,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(text, { maxLength: 3 }),
  );
  const record = fc.record({
    time: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    level: fc.oneof(
      fc.constantFrom('fatal', 'error', 'warn', 'info', 'debug'),
      fc.constantFrom('valueOf', 'constructor', '__proto__', 'toString'),
      text,
    ),
    message: fc.oneof(text, fc.string({ unit: 'binary', minLength: 250, maxLength: 300 })),
    service: text,
    attributes: fc.dictionary(text, value),
    traceId: fc.option(fc.oneof(fc.hexaString({ minLength: 32, maxLength: 32 }), text), { nil: undefined }),
    spanId: fc.option(text, { nil: undefined }),
  });

  it('writes the bytes of JSON.stringify(toOtelJson(r)) for any record, one renderer across many records', () => {
    const render = createJsonRenderer();
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 5 }), (records) => {
        for (const r of records) {
          const line = render(r);
          expect(line).toBe(JSON.stringify(toOtelJson(r)));
          expect(JSON.parse(line).body).toBe(r.message);
          expect(line).not.toMatch(/[\n\r]/);
        }
      }),
      { numRuns: 200 },
    );
  });
});

test('a record whose level is an Object method name renders like any unknown level', () => {
  const r: LogRecord = { time: T0, level: 'valueOf', service: 's', message: 'm', attributes: {} };
  expect(JSON.parse(createJsonRenderer()(r))).toMatchObject({ severity_text: 'VALUEOF', severity_number: 9 });
  expect(toPretty({ ...r, level: 'constructor' }, true)).not.toContain('function');
});
