// Overhead of @periscope/health/express, /fastify and /nestjs per request against the bare framework, at
// hello-world throughput (the worst case: the app does nothing else). Two server processes: one
// without a tracing SDK (spans are no-ops; metrics, probes and context are on) and one with
// startTracing() sampling every request (exporter 'none', no store). Each process serves a bare
// and an instrumented app of each framework; autocannon drives all cases from this process,
// interleaved round by round; we print median req/s, p99 and the ratio to the same bare framework.
import { spawn, type ChildProcess } from 'node:child_process';
import 'reflect-metadata';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import autocannon from 'autocannon';
import express from 'express';
import Fastify from 'fastify';
import { machineLine } from '@periscope-tools/bench';
import { createMetrics } from '@periscope/metrics';
import { startTracing } from '@periscope/tracing';
// Relative imports: tsconfig paths send '@periscope/health' to src/, and both sides must share one HealthServer class.
import { createHealthServer } from '../src';
import { periscopeExpress } from '../src/frameworks/express';
import { periscopeFastify } from '../src/frameworks/fastify';
import { PeriscopeModule } from '../src/frameworks/nestjs';

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
  if (process.env.BENCH_TRACING === '1')
    startTracing({ serviceName: 'bench', exporter: 'none', store: false, env: {} });
  const ports: Ports = {
    expressBare: await expressApp(false),
    expressPeriscope: await expressApp(true),
    fastifyBare: await fastifyApp(false),
    fastifyPeriscope: await fastifyApp(true),
    nestBare: await nestApp(false),
    nestPeriscope: await nestApp(true),
  };
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
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

async function startChild(tracing: boolean): Promise<{ child: ChildProcess; ports: Ports }> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_TRACING: tracing ? '1' : '0' },
  });
  const ports = await new Promise<Ports>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(JSON.parse(buf.slice(0, buf.indexOf('\n'))) as Ports);
    });
    child.on('exit', (code) => reject(new Error(`server process exited with ${code}`)));
  });
  return { child, ports };
}

async function main(): Promise<void> {
  const off = await startChild(false);
  const on = await startChild(true);
  const url = (port: number) => `http://127.0.0.1:${port}/hello/world`;
  const cases = [
    { name: 'express bare', url: url(off.ports.expressBare), base: 0 },
    { name: 'express + periscope (no tracing SDK)', url: url(off.ports.expressPeriscope), base: 0 },
    { name: 'express bare (tracing SDK process)', url: url(on.ports.expressBare), base: 2 },
    { name: 'express + periscope (SDK, every request sampled)', url: url(on.ports.expressPeriscope), base: 2 },
    { name: 'fastify bare', url: url(off.ports.fastifyBare), base: 4 },
    { name: 'fastify + periscope (no tracing SDK)', url: url(off.ports.fastifyPeriscope), base: 4 },
    { name: 'fastify bare (tracing SDK process)', url: url(on.ports.fastifyBare), base: 6 },
    { name: 'fastify + periscope (SDK, every request sampled)', url: url(on.ports.fastifyPeriscope), base: 6 },
    { name: 'nest bare', url: url(off.ports.nestBare), base: 8 },
    { name: 'nest + periscope (no tracing SDK)', url: url(off.ports.nestPeriscope), base: 8 },
    { name: 'nest bare (tracing SDK process)', url: url(on.ports.nestBare), base: 10 },
    { name: 'nest + periscope (SDK, every request sampled)', url: url(on.ports.nestPeriscope), base: 10 },
  ];
  console.log(
    `# @periscope/health framework integrations benchmark\n\n${machineLine()} · autocannon ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds × ${DURATION_S} s per case; GET /hello/:name`,
  );
  for (const c of cases) await load(c.url, 1); // warm-up
  const samples = cases.map(() => [] as Sample[]);
  for (let r = 0; r < ROUNDS; r++)
    for (let i = 0; i < cases.length; i++) samples[i].push(await load(cases[i].url, DURATION_S));
  console.log('\n| case | req/s (median) | p99 latency (median) | ratio vs bare |');
  console.log('|---|---:|---:|---:|');
  for (let i = 0; i < cases.length; i++) {
    const rps = median(samples[i].map((s) => s.rps));
    const base = median(samples[cases[i].base].map((s) => s.rps));
    const p99 = median(samples[i].map((s) => s.p99));
    console.log(
      `| ${cases[i].name} | ${Math.round(rps).toLocaleString('en-US')} | ${p99.toFixed(1)} ms | ${(rps / base).toFixed(2)}× |`,
    );
  }
  for (const { child } of [off, on]) {
    child.stdin!.end();
    await new Promise((r) => child.once('exit', r));
  }
}

if (process.argv.includes('--serve')) void serve();
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
