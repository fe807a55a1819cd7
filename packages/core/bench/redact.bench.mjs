// Redaction throughput on the built dist/ (build first: npx tsc -p packages/core/tsconfig.build.json).
// Log records and strings with and without secrets; records are interleaved against @pinojs/redact
// (pino's key-path redactor, the successor of fast-redact) given the same secret key paths.
// Cases run interleaved in rounds (each case one time slice per round, in turn), so load on the
// machine hits all alike; we print the median ops/s over rounds and the ratio to the group's first case.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import os from 'node:os';

const require = createRequire(import.meta.url);
const core = require('../dist/index.js');
const pinoRedact = require('@pinojs/redact');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 200);

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

let sink = 0;
function slice(fn, ms) {
  const start = performance.now();
  const end = start + ms;
  let calls = 0;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 64; i++) sink ^= fn() === undefined ? 0 : 1;
    calls += 64;
    now = performance.now();
  }
  return calls / ((now - start) / 1000);
}

function compare(title, cases) {
  for (const c of cases) slice(c.fn, SLICE_MS);
  const samples = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) cases.forEach((c, i) => samples[i].push(slice(c.fn, SLICE_MS)));
  const base = median(samples[0]);
  console.log(`\n### ${title}\n\n| case | ops/s (median) | time/op | ratio vs first |\n|---|---:|---:|---:|`);
  cases.forEach((c, i) => {
    const m = median(samples[i]);
    const ns = 1e9 / m;
    const time = ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
    const ops = m >= 1e6 ? `${(m / 1e6).toFixed(2)}M` : `${(m / 1e3).toFixed(1)}k`;
    console.log(`| ${c.name} | ${ops} | ${time} | ${(m / base).toFixed(2)}× |`);
  });
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${os.cpus().length}× ${cpu} · load ${os.loadavg()[0].toFixed(1)}`,
);

// ---- log records --------------------------------------------------------------------------
const clean = {
  level: 'info',
  msg: 'task completed',
  time: 1732890000000,
  taskId: 'task-8f3a2c',
  durationMs: 1234,
  gen_ai: { request: { model: 'gpt-4o-mini' }, usage: { input_tokens: 812, output_tokens: 96 } },
  http: { method: 'POST', route: '/tasks', status: 200, headers: { 'content-type': 'application/json' } },
  trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
};
const secret = {
  ...clean,
  msg: 'connected to postgres://app:s3cr3t@db.internal:5432/app',
  http: { ...clean.http, headers: { authorization: 'Bearer abcdefgh12345678', cookie: 'sid=abc' } },
  user: { name: 'ada', password: 'hunter2' },
};
// What a pino user lists to get the same keys redacted (pino redacts key paths only).
const paths = [
  'password',
  '*.password',
  'user.password',
  'http.headers.authorization',
  'http.headers.cookie',
  'http.headers["set-cookie"]',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
];
const pino = pinoRedact({ paths, serialize: false });
const keysOnly = core.createRedactor({ defaultPatterns: false });

for (const [label, record] of [
  ['without secrets', clean],
  ['with secrets', secret],
]) {
  compare(`log record ${label}`, [
    { name: '@pinojs/redact (10 key paths, no string patterns)', fn: () => pino(record) },
    { name: '@periscope/core redact (keys + string patterns)', fn: () => core.redact(record) },
    { name: '@periscope/core keys only (defaultPatterns: false)', fn: () => keysOnly.redact(record) },
    { name: 'JSON.stringify (for scale: the cost of writing it)', fn: () => JSON.stringify(record) },
  ]);
}

// ---- strings ------------------------------------------------------------------------------
const strings = {
  'short, no secret': 'task 42 done in 12ms',
  'short, with ":" (passes the trigger)': 'model: gpt-4o-mini, status: ok',
  'URL with password': 'connecting to postgres://app:p@ssw0rd@db.internal:5432/app',
  'key=value with secret': 'login user=ada password=hunter2 ip=10.0.0.1',
  '1 KB line, no secret': 'GET /api/tasks?page=2&limit=50 200 12ms '.repeat(25),
  '1 KB line, one secret':
    'GET /api/tasks?page=2&limit=50 200 12ms '.repeat(12) +
    'Authorization: Bearer abcdefgh12345678 ' +
    'x '.repeat(200),
};
compare(
  'redactString',
  Object.entries(strings).map(([name, text]) => ({ name, fn: () => core.redactString(text) })),
);
compare(
  'redactUrl',
  [
    ['no credentials', 'https://api.example.com:8443/v1/tasks?page=2'],
    ['password with @', 'postgres://app:p@ssw0rd@db.internal:5432/app?sslmode=require'],
    ['presigned query', 'https://s3.example/b/k?X-Amz-Signature=abcdef&X-Amz-Date=20240101&x=1'],
  ].map(([name, url]) => ({ name, fn: () => core.redactUrl(url) })),
);
if (sink === 42) console.log('');
