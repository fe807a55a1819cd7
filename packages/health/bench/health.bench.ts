// HTTP benchmark: /livez and /metrics (1k series) of the health server against a bare node:http
// server answering 'ok'. The three servers live in one child process (same conditions for all);
// autocannon drives them from this process, interleaved round by round, and we report the median
// req/s and p99 per case and the ratio to the bare server (target: /livez >= 0.9x).
import http from 'node:http';
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { machineLine } from '@periscope-tools/bench';
import { createMetrics } from '@periscope/metrics';
import { createHealthServer } from '@periscope/health';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const CONNECTIONS = 32;

async function serve(): Promise<void> {
  const bare = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('ok');
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const metrics = createMetrics();
  const series = metrics.counter({
    name: 'bench_requests_total',
    help: 'bench series',
    labelNames: ['route', 'shard'] as const,
  });
  for (let i = 0; i < 1000; i++) series.inc({ route: `/r${i % 50}`, shard: String(i) }, i);
  const health = createHealthServer({ port: 0, metrics, drainDelayMs: 0 });
  health.addCheck({ name: 'noop', run: () => ({ status: 'pass' }) });
  const { port } = await health.listen();
  health.markReady();
  process.stdout.write(`${JSON.stringify({ bare: (bare.address() as { port: number }).port, health: port })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    bare.close();
    void health.close().then(() => process.exit(0));
  });
}

interface Sample {
  rps: number;
  p99: number;
}

function load(url: string, duration: number): Promise<Sample> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration }, (err, result) => {
      if (err) return reject(err);
      if (result.non2xx > 0 || result.errors > 0)
        return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      resolve({ rps: result.requests.average, p99: result.latency.p99 });
    });
  });
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ports = await new Promise<{ bare: number; health: number }>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(JSON.parse(buf.slice(0, buf.indexOf('\n'))));
    });
    child.on('exit', (code) => reject(new Error(`server process exited with ${code}`)));
  });
  const cases = [
    { name: 'node:http bare "ok"', url: `http://127.0.0.1:${ports.bare}/` },
    { name: 'health /livez', url: `http://127.0.0.1:${ports.health}/livez` },
    { name: 'health /metrics (1k series)', url: `http://127.0.0.1:${ports.health}/metrics` },
  ];
  console.log(
    `# @periscope/health HTTP benchmark\n\n${machineLine()} · autocannon ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds × ${DURATION_S} s per case; servers in one child process`,
  );
  for (const c of cases) await load(c.url, 1); // warm-up
  const samples = cases.map(() => [] as Sample[]);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < cases.length; i++) samples[i].push(await load(cases[i].url, DURATION_S));
  }
  const base = median(samples[0].map((s) => s.rps));
  console.log('\n| case | req/s (median) | p99 latency (median) | ratio vs bare |');
  console.log('|---|---:|---:|---:|');
  for (let i = 0; i < cases.length; i++) {
    const rps = median(samples[i].map((s) => s.rps));
    const p99 = median(samples[i].map((s) => s.p99));
    console.log(
      `| ${cases[i].name} | ${Math.round(rps).toLocaleString('en-US')} | ${p99.toFixed(1)} ms | ${(rps / base).toFixed(2)}× |`,
    );
  }
  child.stdin!.end();
  await new Promise((r) => child.once('exit', r));
}

if (process.argv.includes('--serve')) void serve();
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
