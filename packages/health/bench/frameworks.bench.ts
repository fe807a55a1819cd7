// Overhead of @periscope/health/express, /fastify and /nestjs per request against the bare framework, at
// hello-world throughput (the worst case: the app does nothing else), on the built dist/. Three server
// processes: one without a tracing SDK (spans are no-ops; metrics, probes and shutdown are on), one
// with startTracing() at a production ratio (parentbased_traceidratio 0.1) and one sampling every
// request (exporter 'none', no store). Each process serves a bare and an instrumented app of each
// framework; autocannon drives all cases from this process, interleaved round by round. We print
// median req/s, p99, the server's CPU per request (less noisy than req/s on a shared machine: the
// client's own CPU is left out) and both ratios to the same bare framework in the same process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import 'reflect-metadata';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import autocannon from 'autocannon';
import express from 'express';
import Fastify from 'fastify';
import { machineLine } from '@periscope-tools/bench';

// The built packages, as a user gets them (tsconfig paths would send '@periscope/*' to src/).
const load = createRequire(__filename);
const { createHealthServer } = load('../dist/index.js') as typeof import('../src');
const { periscopeExpress } = load('../dist/frameworks/express.js') as typeof import('../src/frameworks/express');
const { periscopeFastify } = load('../dist/frameworks/fastify.js') as typeof import('../src/frameworks/fastify');
const { PeriscopeModule } = load('../dist/frameworks/nestjs.js') as typeof import('../src/frameworks/nestjs');
const { createMetrics } = load('@periscope/metrics') as typeof import('@periscope/metrics');
const { startTracing } = load('@periscope/tracing') as typeof import('@periscope/tracing');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const CONNECTIONS = 32;
type Ports = Record<
  'expressBare' | 'expressPeriscope' | 'fastifyBare' | 'fastifyPeriscope' | 'nestBare' | 'nestPeriscope',
  number
>;

async function expressApp(instrument: boolean): Promise<number> {
  const app = express();
  const health = createHealthServer({ port: 0, metrics: createMetrics(), drainDelayMs: 0 });
  const periscope = instrument ? periscopeExpress({ health }) : undefined;
  if (periscope) app.use(periscope.middleware);
  app.get('/hello/:name', (req, res) => {
    res.send(`hello ${req.params.name}`);
  });
  if (periscope) app.use(periscope.errorHandler);
  const server = app.listen(0, '127.0.0.1');
  periscope?.attach(server);
  health.markReady();
  await new Promise<void>((r) => server.once('listening', r));
  return (server.address() as { port: number }).port;
}

async function fastifyApp(instrument: boolean): Promise<number> {
  const app = Fastify();
  const health = createHealthServer({ port: 0, metrics: createMetrics(), drainDelayMs: 0 });
  if (instrument) periscopeFastify(app, { health });
  app.get<{ Params: { name: string } }>('/hello/:name', async (request) => `hello ${request.params.name}`);
  await app.listen({ port: 0, host: '127.0.0.1' });
  health.markReady();
  return (app.server.address() as { port: number }).port;
}

// Nest on its Express platform; decorators applied as functions (no experimentalDecorators here).
async function nestApp(instrument: boolean): Promise<number> {
  class HelloController {
    hello(name: string) {
      return `hello ${name}`;
    }
  }
  Controller()(HelloController);
  Param('name')(HelloController.prototype, 'hello', 0);
  const descriptor = Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello')!;
  Get('hello/:name')(HelloController.prototype, 'hello', descriptor);
  const health = createHealthServer({ port: 0, metrics: createMetrics(), drainDelayMs: 0 });
  class AppModule {}
  Module({ imports: instrument ? [PeriscopeModule.forRoot({ health })] : [], controllers: [HelloController] })(
    AppModule,
  );
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  health.markReady();
  return (app.getHttpServer().address() as { port: number }).port;
}

async function serve(): Promise<void> {
  const ratio = Number(process.env.BENCH_TRACING ?? 0);
  if (ratio > 0)
    startTracing({
      serviceName: 'bench',
      exporter: 'none',
      store: false,
      sampler: 'parentbased_traceidratio',
      samplerRatio: ratio,
      env: {},
    });
  const ports: Ports = {
    expressBare: await expressApp(false),
    expressPeriscope: await expressApp(true),
    fastifyBare: await fastifyApp(false),
    fastifyPeriscope: await fastifyApp(true),
    nestBare: await nestApp(false),
    nestPeriscope: await nestApp(true),
  };
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  // Each line on stdin asks for the CPU time this process has used so far (µs).
  process.stdin.on('data', () => {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`${user + system}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
}

interface Sample {
  rps: number;
  p99: number;
  /** Server CPU per request, µs. */
  cpu: number;
}

interface Server {
  child: ChildProcess;
  ports: Ports;
  cpuMicros(): Promise<number>;
}

function drive(url: string, duration: number): Promise<{ rps: number; p99: number; total: number }> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration }, (err, result) => {
      if (err) return reject(err);
      if (result.non2xx > 0 || result.errors > 0)
        return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      resolve({ rps: result.requests.average, p99: result.latency.p99, total: result.requests.total });
    });
  });
}

async function measure(server: Server, url: string, duration: number): Promise<Sample> {
  const before = await server.cpuMicros();
  const { rps, p99, total } = await drive(url, duration);
  const after = await server.cpuMicros();
  return { rps, p99, cpu: (after - before) / Math.max(1, total) };
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function startChild(samplingRatio: number): Promise<Server> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_TRACING: String(samplingRatio) },
  });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const line = lines.shift();
      if (line !== undefined) return resolve(line);
      waiting.push(resolve);
      child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
    });
  const ports = JSON.parse(await next()) as Ports;
  return {
    child,
    ports,
    cpuMicros: async () => {
      child.stdin!.write('\n');
      return Number(await next());
    },
  };
}

// BENCH_FRAMEWORKS=nest,fastify measures only those (the server processes still serve all three).
const ONLY = process.env.BENCH_FRAMEWORKS?.split(',');
const FRAMEWORKS = (
  [
    ['express', 'expressBare', 'expressPeriscope'],
    ['fastify', 'fastifyBare', 'fastifyPeriscope'],
    ['nest', 'nestBare', 'nestPeriscope'],
  ] as const
).filter(([name]) => !ONLY || ONLY.includes(name));

async function main(): Promise<void> {
  const processes = [
    { label: 'no tracing SDK', server: await startChild(0) },
    { label: 'SDK, 10 % of requests sampled', server: await startChild(0.1) },
    { label: 'SDK, every request sampled', server: await startChild(1) },
  ];
  const url = (port: number) => `http://127.0.0.1:${port}/hello/world`;
  const cases: { name: string; server: Server; url: string; base: number }[] = [];
  for (const [fw, bare, instrumented] of FRAMEWORKS)
    for (const { label, server } of processes) {
      const base = cases.length;
      cases.push({ name: `${fw} bare (${label} process)`, server, url: url(server.ports[bare]), base });
      cases.push({ name: `${fw} + periscope (${label})`, server, url: url(server.ports[instrumented]), base });
    }
  console.log(
    `# @periscope/health framework integrations benchmark\n\n${machineLine()} · autocannon ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds × ${DURATION_S} s per case; GET /hello/:name; dist/`,
  );
  for (const c of cases) await drive(c.url, 1); // warm-up
  const samples = cases.map(() => [] as Sample[]);
  for (let r = 0; r < ROUNDS; r++)
    for (let i = 0; i < cases.length; i++) samples[i].push(await measure(cases[i].server, cases[i].url, DURATION_S));
  console.log('\n| case | req/s (median) | p99 (median) | server CPU per request | req/s vs bare | CPU: bare / this |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (let i = 0; i < cases.length; i++) {
    const med = (k: keyof Sample, at = i) => median(samples[at].map((s) => s[k]));
    const rps = med('rps');
    console.log(
      `| ${cases[i].name} | ${Math.round(rps).toLocaleString('en-US')} | ${med('p99').toFixed(1)} ms | ${med('cpu').toFixed(1)} µs | ${(rps / med('rps', cases[i].base)).toFixed(2)}× | ${(med('cpu', cases[i].base) / med('cpu')).toFixed(2)}× |`,
    );
  }
  for (const { server } of processes) {
    server.child.stdin!.end();
    await new Promise((r) => server.child.once('exit', r));
  }
}

if (process.argv.includes('--serve')) void serve();
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
