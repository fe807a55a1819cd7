// Interleaved benchmark: `logger.info('msg', { a: 1, b: 'x' })` to a discarding stream.
// Baseline (first): raw winston with format.json(). Ours: json layout + trace correlation (run
// inside an active span, so trace_id/span_id really are looked up and written) + default
// redaction. Also: ours with redaction off (to show its cost), and pino.
// Runs on the package as shipped: the tsc output in dist/ (the bench target depends on build).
// Run: npx nx bench logging   (or: npx tsc -p packages/logging/tsconfig.build.json && cd packages/logging && npx tsx bench/logging.bench.ts)
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import winston from 'winston';
import pino from 'pino';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { compare, machineLine } from '@periscope-tools/bench';

const load = createRequire(__filename);
const { createLogger, createOtlpTransport, createHttpTransport, toLokiPush, redact } = load(
  '../dist/index.js',
) as typeof import('../src');
const { encodeLogsRequest } = load('../dist/otlp-encode.js') as typeof import('../src/otlp-encode');

function sink(onLine?: (line: string) => void): Writable {
  return new Writable({
    write(chunk, _enc, cb) {
      onLine?.(String(chunk));
      cb();
    },
  });
}

/** One line from a logger, to show that every case writes a complete record. */
async function sample(log: (dest: Writable) => () => void): Promise<string> {
  let line = '';
  const write = log(
    sink((l) => {
      line ||= l;
    }),
  );
  write();
  await new Promise((r) => setImmediate(r));
  return line.trim();
}

const winstonLogger = (dest: Writable) =>
  winston.createLogger({
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream: dest })],
  });
const ours = (dest: Writable, redactOn = true) =>
  createLogger({ service: 'bench', format: 'json', destination: dest, redact: redactOn });
const pinoLogger = (dest: Writable) => pino({ base: undefined }, dest);
const meta = { a: 1, b: 'x' };

async function printSamples(): Promise<void> {
  console.log('Sample lines (same call, each logger):\n');
  const logs = [
    await sample((d) => {
      const l = winstonLogger(d);
      return () => l.info('msg', { a: 1, b: 'x' });
    }),
    await sample((d) => {
      const l = ours(d);
      return () => l.info('msg', { a: 1, b: 'x' });
    }),
    await sample((d) => {
      const l = pinoLogger(d);
      return () => l.info({ a: 1, b: 'x' }, 'msg');
    }),
  ];
  for (const l of logs) console.log(`    ${l}`);
}

async function loggingCase(): Promise<void> {
  const rawW = winstonLogger(sink());
  const oursL = ours(sink());
  const oursNoRedact = ours(sink(), false);
  const p = pinoLogger(sink());
  // Each call logs BATCH records, then yields one event-loop turn so the stream work every logger
  // defers (nextTick / setImmediate) is done and counted, instead of piling up across the run.
  const BATCH = 200;
  const batch = (log: () => unknown) => async () => {
    for (let i = 0; i < BATCH; i++) log();
    await new Promise((r) => setImmediate(r));
  };
  await compare(
    "logger.info('msg', { a: 1, b: 'x' }) to a discarding stream",
    [
      { name: 'winston 3 format.json() (baseline)', fn: batch(() => rawW.info('msg', meta)), opsPerCall: BATCH },
      {
        name: 'ours: json + correlation + default redaction',
        fn: batch(() => oursL.info('msg', meta)),
        opsPerCall: BATCH,
      },
      {
        name: 'ours: json + correlation, redaction off',
        fn: batch(() => oursNoRedact.info('msg', meta)),
        opsPerCall: BATCH,
      },
      { name: 'pino 9 (no correlation, no redaction)', fn: batch(() => p.info(meta, 'msg')), opsPerCall: BATCH },
    ],
    { rounds: 9, sliceMs: 300 },
  );
  await Promise.all([oursL.shutdown(), oursNoRedact.shutdown()]);
  rawW.close();
}

/** A local receiver that answers 200 to everything (in this process: its cost is in the numbers). */
async function receiver(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** What shipping adds to a log call: the enqueue, and the batches encoded and POSTed in the background. */
async function shippingCase(): Promise<void> {
  const rx = await receiver();
  const plain = createLogger({ service: 'bench', format: 'json', destination: sink() });
  const otlp = createLogger({
    service: 'bench',
    format: 'json',
    transports: [createOtlpTransport({ endpoint: rx.url })],
  });
  const loki = createLogger({
    service: 'bench',
    format: 'json',
    transports: [createHttpTransport({ target: 'loki', url: rx.url, batchSize: 512, maxBufferSize: 2048 })],
  });
  const BATCH = 200;
  const batch = (log: () => unknown) => async () => {
    for (let i = 0; i < BATCH; i++) log();
    await new Promise((r) => setImmediate(r));
  };
  await compare(
    "logger.info('msg', { a: 1, b: 'x' }) with a shipping transport (local receiver, batches of 512)",
    [
      { name: 'ours to a discarding stream (baseline)', fn: batch(() => plain.info('msg', meta)), opsPerCall: BATCH },
      { name: 'ours + OTLP/HTTP protobuf transport', fn: batch(() => otlp.info('msg', meta)), opsPerCall: BATCH },
      { name: 'ours + Loki transport', fn: batch(() => loki.info('msg', meta)), opsPerCall: BATCH },
    ],
    { rounds: 7, sliceMs: 300 },
  );
  await Promise.all([plain.shutdown(), otlp.shutdown(), loki.shutdown()]);
  await rx.close();
  const records = Array.from({ length: 512 }, (_, i) => ({
    time: Date.now(),
    level: 'info',
    service: 'bench',
    message: `task ${i} done`,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: '01',
    attributes: { 'gen_ai.agent.name': 'planner', tokens: 1234, ok: true },
  }));
  const resource = { 'service.name': 'bench', 'host.name': 'h', 'process.pid': 1 };
  const scope = { name: '@periscope/logging', version: '0.1.0' };
  await compare(
    'encoding one batch of 512 records',
    [
      { name: 'OTLP protobuf (ExportLogsServiceRequest)', fn: () => encodeLogsRequest(records, () => resource, scope) },
      { name: 'Loki JSON push body', fn: () => JSON.stringify(toLokiPush(records)) },
    ],
    { rounds: 5, sliceMs: 200 },
  );
}

async function redactCase(): Promise<void> {
  const nested = {
    user: { id: 7, email: 'ada@example.com', password: 'p' },
    headers: { authorization: 'Bearer abcdefgh12345678', accept: 'text/html' },
    url: 'postgres://app:pw@db/app',
    tags: ['a', 'b', 'c'],
  };
  await compare(
    'redact() alone',
    [
      { name: "redact({ a: 1, b: 'x' })", fn: () => redact(meta) },
      { name: 'redact(nested request with 3 secrets)', fn: () => redact(nested) },
      {
        name: 'JSON.parse(JSON.stringify(nested)) (a plain deep copy, for scale)',
        fn: () => JSON.parse(JSON.stringify(nested)),
      },
    ],
    { rounds: 5, sliceMs: 200 },
  );
}

async function main(): Promise<void> {
  console.log(`# @periscope/logging vs winston and pino\n\n${machineLine()}\n`);
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const provider = new BasicTracerProvider();
  trace.setGlobalTracerProvider(provider);
  // Inside an active span: trace_id/span_id really are looked up and written.
  const span = trace.getTracer('bench').startSpan('bench');
  await context.with(trace.setSpan(context.active(), span), async () => {
    await printSamples();
    await loggingCase();
    await shippingCase();
    await redactCase();
  });
  span.end();
  await provider.shutdown();
  context.disable();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
