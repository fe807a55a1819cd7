// The built-in routes: /livez, /readyz (+ /ready, /readyz/<check>), /health, /metrics, /status.
// GET and HEAD only, no request body, answers counted per route template.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from '@periscope/metrics';
import type { CheckRegistry } from './checks';
import type { Instruments } from './instrumentation';
import type { Lifecycle } from './lifecycle';
import { checkLine, escapeLine, excludedNames, exclusionLines, healthDocument, isReady } from './probes';
import { HEALTH_JSON, JSON_TYPE, TEXT, sendBody, toJson } from './respond';
import { errorMessage } from './errors';
import type { StatusProviders } from './status';

export interface ProbeContext {
  checks: CheckRegistry;
  lifecycle: Lifecycle;
  statusProviders: StatusProviders;
  metrics: Metrics | undefined;
  instruments: Instruments;
  redact: (value: unknown) => unknown;
  version: string;
  serviceId: string;
}

export type BuiltIn = (
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams | undefined,
  rest: string,
) => void | Promise<void>;

/** Answers and counts the answer under its route template. */
export function send(
  ctx: Pick<ProbeContext, 'instruments'>,
  res: ServerResponse,
  route: string,
  code: number,
  type: string,
  body: string,
  headers?: Readonly<Record<string, string>>,
): void {
  ctx.instruments.request(route, code);
  sendBody(res, code, type, body, headers);
}

function livez(ctx: ProbeContext, res: ServerResponse, query: URLSearchParams | undefined): void {
  // Answering at all proves the event loop turns; dependencies do not belong in liveness.
  if (!query?.has('verbose')) return send(ctx, res, '/livez', 200, TEXT, 'ok');
  const ping = excludedNames(query).names.has('ping') ? '[+]ping excluded: ok' : '[+]ping ok';
  send(ctx, res, '/livez', 200, TEXT, `${ping}\nlivez check passed\n`);
}

async function readyz(ctx: ProbeContext, res: ServerResponse, query: URLSearchParams | undefined): Promise<void> {
  const exclusions = excludedNames(query);
  const state = ctx.lifecycle.state;
  // Draining: fail at once without touching dependencies that are about to close.
  const running = state === 'starting' || state === 'ready';
  const names = ctx.checks.names.filter((n) => !exclusions.names.has(n));
  const results = running ? await ctx.checks.run(names) : [];
  const ok = isReady(ctx.lifecycle.state, results);
  if (ok && !query?.has('verbose')) return send(ctx, res, '/readyz', 200, TEXT, 'ok');
  const lines = [
    escapeLine(ctx.lifecycle.line()),
    ...results.map(checkLine),
    ...exclusionLines(exclusions, (n) => ctx.checks.has(n)),
    `readyz check ${ok ? 'passed' : 'failed'}`,
  ];
  send(ctx, res, '/readyz', ok ? 200 : 503, TEXT, lines.join('\n') + '\n');
}

async function readyzOne(
  ctx: ProbeContext,
  res: ServerResponse,
  query: URLSearchParams | undefined,
  name: string,
): Promise<void> {
  const route = '/readyz/:check';
  if (!ctx.checks.has(name))
    return send(ctx, res, route, 404, TEXT, `no check named ${escapeLine(JSON.stringify(name.slice(0, 64)))}\n`);
  const [r] = await ctx.checks.run([name]);
  const ok = r.status !== 'fail';
  if (ok && !query?.has('verbose')) return send(ctx, res, route, 200, TEXT, 'ok');
  send(ctx, res, route, ok ? 200 : 503, TEXT, `${checkLine(r)}\nreadyz check ${ok ? 'passed' : 'failed'}\n`);
}

async function health(ctx: ProbeContext, res: ServerResponse, query: URLSearchParams | undefined): Promise<void> {
  const excluded = excludedNames(query).names;
  const results = await ctx.checks.run(ctx.checks.names.filter((n) => !excluded.has(n)));
  const doc = healthDocument({
    state: ctx.lifecycle.state,
    results,
    version: ctx.version,
    serviceId: ctx.serviceId,
    uptimeSeconds: process.uptime(),
  });
  send(ctx, res, '/health', doc.status === 'fail' ? 503 : 200, HEALTH_JSON, JSON.stringify(doc));
}

/** Resolves when the socket wants more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Streamed: with 100k series the body is megabytes, so each slice goes to the socket as it is
 * rendered (with backpressure) instead of one string built first; the loop is never held for
 * more than a slice. A failure in the first slice is still a 500; a later one cuts the response.
 */
async function metricsRoute(ctx: ProbeContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!ctx.metrics) return send(ctx, res, '/metrics', 404, TEXT, 'metrics are disabled\n');
  const { contentType, chunks } = ctx.metrics.exposeStream(req.headers.accept);
  const slices = chunks[Symbol.asyncIterator]();
  const first = req.method === 'HEAD' ? undefined : await slices.next();
  ctx.instruments.request('/metrics', 200);
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  if (first === undefined) return void res.end();
  try {
    for (let next = first; !next.done; next = await slices.next()) {
      // A client that went away stops the rendering too.
      if (res.destroyed) return void (await slices.return?.());
      if (!res.write(next.value)) await drained(res);
    }
    res.end();
  } catch (err) {
    res.destroy(err instanceof Error ? err : new Error(errorMessage(err)));
  }
}

async function status(ctx: ProbeContext, res: ServerResponse): Promise<void> {
  const doc = await ctx.statusProviders.document({
    service: ctx.serviceId,
    version: ctx.version,
    state: ctx.lifecycle.state,
    startup: ctx.lifecycle.startupSummary(),
    checks: ctx.checks.lastResults(),
  });
  let body: string;
  try {
    body = toJson(ctx.redact(doc));
  } catch (err) {
    const error = { error: `status document cannot be serialized: ${errorMessage(err)}` };
    return send(ctx, res, '/status', 500, JSON_TYPE, JSON.stringify(error));
  }
  send(ctx, res, '/status', 200, JSON_TYPE, body);
}

/** Path → handler of every built-in route; '/readyz/' takes the check name as `rest`. */
export function builtInRoutes(ctx: ProbeContext): Map<string, BuiltIn> {
  return new Map<string, BuiltIn>([
    ['/livez', (_req, res, q) => livez(ctx, res, q)],
    ['/readyz', (_req, res, q) => readyz(ctx, res, q)],
    ['/ready', (_req, res, q) => readyz(ctx, res, q)],
    ['/readyz/', (_req, res, q, rest) => readyzOne(ctx, res, q, rest)],
    ['/health', (_req, res, q) => health(ctx, res, q)],
    ['/health/detailed', (_req, res, q) => health(ctx, res, q)],
    ['/metrics', (req, res) => metricsRoute(ctx, req, res)],
    ['/status', (_req, res) => status(ctx, res)],
  ]);
}
