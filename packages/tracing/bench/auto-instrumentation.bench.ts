// Auto-instrumentation (node --require @periscope/tracing/register with the http, pg and ioredis
// contrib instrumentations) against manual wrapping (wrapHttpHandler + trace()) and no tracing:
// startup cost and per-request cost of an HTTP request that runs one SQL statement and one Redis
// command, on the built dist/ against the real PostgreSQL and Redis. Instrumentation patches
// modules process-wide, so each mode runs in its own child process; the modes are interleaved
// round by round and medians are reported. Run: npx tsx packages/tracing/bench/auto-instrumentation.bench.ts
import { execFile } from 'node:child_process';
import path from 'node:path';
import { machineLine } from '@periscope-tools/bench';

const LOOP = path.join(__dirname, 'fixtures/request-loop.js');
const REGISTER = path.join(__dirname, '../dist/register.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MODES = ['none', 'manual', 'auto'] as const;
type Mode = (typeof MODES)[number];

function run(mode: Mode): Promise<{ startupMs: number; usPerRequest: number }> {
  const args = mode === 'auto' ? ['--require', REGISTER, LOOP] : [LOOP];
  const env = {
    ...process.env,
    MODE: mode,
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    OTEL_TRACES_EXPORTER: 'none',
    PERISCOPE_TRACING_INSTRUMENTATIONS: mode === 'auto' ? 'http,pg,ioredis' : '',
  };
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { env, timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${mode}: ${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    ),
  );
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  console.log(`## @periscope/tracing: auto-instrumentation vs manual wrapping\n\n${machineLine()}\n`);
  const results = new Map<Mode, { startupMs: number[]; usPerRequest: number[] }>(
    MODES.map((m) => [m, { startupMs: [], usPerRequest: [] }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no mode always runs first (a cold cache, a busy neighbour).
    for (let i = 0; i < MODES.length; i++) {
      const mode = MODES[(round + i) % MODES.length];
      const r = await run(mode);
      results.get(mode)!.startupMs.push(r.startupMs);
      results.get(mode)!.usPerRequest.push(r.usPerRequest);
    }
  }
  const med = (m: Mode) => ({
    startup: median(results.get(m)!.startupMs),
    request: median(results.get(m)!.usPerRequest),
  });
  const [none, manual, auto] = MODES.map(med);
  console.log('| mode | startup (ms, median) | per request (µs, median) |');
  console.log('|---|---|---|');
  for (const m of MODES) console.log(`| ${m} | ${med(m).startup.toFixed(1)} | ${med(m).request.toFixed(1)} |`);
  console.log(
    `\n- per request: auto ${(auto.request / manual.request).toFixed(2)}× manual; manual ${(manual.request / none.request).toFixed(2)}× none; auto ${(auto.request / none.request).toFixed(2)}× none`,
  );
  console.log(
    `- startup: auto ${(auto.startup / manual.startup).toFixed(2)}× manual (+${(auto.startup - manual.startup).toFixed(1)} ms); manual +${(manual.startup - none.startup).toFixed(1)} ms over none`,
  );
}

void main();
