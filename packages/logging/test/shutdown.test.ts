// Shutdown keeps every record it can and settles within its bound whatever the receiver does:
// a destination file holds every line once shutdown() resolves; a Loki/Elasticsearch target that
// is down, black-holed or slow costs at most closeTimeoutMs, and the loss is said on stderr and counted.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { TcpFaultProxy } from '@periscope-tools/testing';
import { createMetrics } from '@periscope/metrics';
import { createHttpTransport, createLogger } from '@periscope/logging';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** What the code under test writes to stderr, captured (the real stream is left untouched otherwise). */
function captureStderr(): () => string {
  let text = '';
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  cleanup.push(() => spy.mockRestore());
  return () => text;
}

/** A real HTTP receiver that answers each request after `delayMs` (never, when Infinity). */
async function slowReceiver(delayMs: number): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    if (delayMs === Infinity) return;
    const t = setTimeout(() => res.writeHead(204).end(), delayMs);
    timers.add(t);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
}

test('a record logged after shutdown() is dropped instead of raising write-after-end', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const logger = createLogger({ format: 'json', destination: out });
  const errors: unknown[] = [];
  logger.on('error', (e) => errors.push(e));
  logger.info('before');
  await logger.shutdown();
  expect(() => logger.info('after')).not.toThrow();
  await new Promise((r) => setImmediate(r));
  expect(errors).toEqual([]);
  expect(
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).body),
  ).toEqual(['before']);
  await logger.shutdown(); // idempotent
});

test('every line logged to a destination file is in the file when shutdown() resolves (2,001 of 2,001)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-logging-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'app.log');
  const destination = fs.createWriteStream(file, { mode: 0o600 });
  const logger = createLogger({ service: 'svc', format: 'json', destination });
  for (let i = 0; i < 2001; i++) logger.info(`line ${i}`, { i });
  await logger.shutdown();
  // Read synchronously right away: nothing may still be queued in the stream.
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(2001);
  expect(JSON.parse(lines[2000]).body).toBe('line 2000');
  expect(destination.writableFinished).toBe(true);
});

test('shutdown() settles within closeTimeoutMs when Loki is black-holed, and says how many records were lost', async () => {
  const rx = await slowReceiver(0);
  const proxy = await TcpFaultProxy.start({ target: { host: '127.0.0.1', port: Number(new URL(rx.url).port) } });
  cleanup.push(() => proxy.close());
  proxy.blackhole();
  const stderr = captureStderr();
  const metrics = createMetrics();
  const shipper = createHttpTransport({
    target: 'loki',
    url: proxy.urlFor(rx.url),
    batchSize: 100,
    flushIntervalMs: 60_000,
    timeoutMs: 30_000,
    closeTimeoutMs: 300,
    metrics,
  });
  const logger = createLogger({ service: 'svc', format: 'json', transports: [shipper] });
  for (let i = 0; i < 5; i++) logger.info(`event ${i}`);
  const started = Date.now();
  await logger.shutdown();
  // 300 ms bound; generous slack for a loaded machine, far below the 30 s request timeout.
  expect(Date.now() - started).toBeLessThan(5000);
  expect(shipper.stats()).toMatchObject({ sent: 0, dropped: { total: 5, byReason: { shutdown: 5 } } });
  expect(stderr()).toMatch(/shutdown could not deliver 5 log record\(s\) to loki at http:\/\/127\.0\.0\.1:\d+\//);
  expect((await metrics.expose()).body).toMatch(
    /periscope_logging_ship_dropped_total\{target="loki",reason="shutdown"\} 5/,
  );
});

test('the logger bound wins over a longer shipper bound when Elasticsearch answers slowly', async () => {
  const rx = await slowReceiver(20_000);
  const stderr = captureStderr();
  const shipper = createHttpTransport({
    target: 'elasticsearch',
    url: rx.url,
    flushIntervalMs: 60_000,
    timeoutMs: 30_000,
    closeTimeoutMs: 60_000,
  });
  const logger = createLogger({ service: 'svc', format: 'json', transports: [shipper], closeTimeoutMs: 400 });
  for (let i = 0; i < 3; i++) logger.warn(`slow ${i}`);
  const started = Date.now();
  await logger.shutdown();
  expect(Date.now() - started).toBeLessThan(5000);
  expect(rx.requests()).toBe(1);
  expect(shipper.stats().dropped.byReason.shutdown).toBe(3);
  expect(stderr()).toMatch(/shutdown did not finish within 400 ms; still flushing: HttpLogTransport/);
  expect(stderr()).toMatch(/could not deliver 3 log record\(s\) to elasticsearch/);
});

// As a user's process sees it: nothing else keeps the event loop alive while shutdown waits for a
// target that is down. Before, shutdown's timers were unref'd and the process exited with the
// promise unsettled (no "settled", records lost silently).
test('a process whose only work left is shutdown() against a down target still settles and reports', async () => {
  const proxy = await TcpFaultProxy.start({ target: { host: '127.0.0.1', port: 9 } });
  cleanup.push(() => proxy.close());
  proxy.refuse();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-logging-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = path.join(dir, 'child.ts');
  fs.writeFileSync(
    script,
    `import { createHttpTransport, createLogger } from ${JSON.stringify(path.join(__dirname, '../src'))};
const shipper = createHttpTransport({ target: 'loki', url: process.env.SHIP_URL, retryBaseMs: 20, maxRetries: 50, flushIntervalMs: 10, closeTimeoutMs: 500 });
const logger = createLogger({ service: 'child', format: 'json', transports: [shipper] });
for (let i = 0; i < 4; i++) logger.info('record ' + i);
setTimeout(() => {
  logger.shutdown().then(() => console.log('settled'));
}, 50);
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, SHIP_URL: `http://127.0.0.1:${proxy.port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(output).toMatch(/could not deliver 4 log record\(s\) to loki/);
  expect(output).toMatch(/settled/);
  expect(code).toBe(0);
}, 30_000);
