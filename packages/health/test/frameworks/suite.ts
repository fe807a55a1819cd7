// One end-to-end suite run against each framework integration with the real framework: the app
// factory of each test file builds the same routes in its framework's own way.
import http from 'node:http';
import { Writable } from 'node:stream';
import { createLogger } from '@periscope/logging';
import { createMetrics, type Metrics } from '@periscope/metrics';
import { startTracing, wrapHttpHandler, type Tracing } from '@periscope/tracing';
import type { SpanRecord } from '@periscope/tracing';
import type { Logger } from '@periscope/core';
import { createHealthServer, type HealthServer, type ShutdownReport } from '../../src';
import { request, sleep } from '../helpers';

/** What every app under test serves (besides the probes the integration mounts). */
export interface AppUnderTest {
  url: string;
  close(): Promise<ShutdownReport>;
  /** The app's node:http server. */
  server: http.Server;
  /** The app as a node:http request listener (Express app, fastify.routing). */
  handler: http.RequestListener;
}

/**
 * The routes each framework app must define:
 * GET /tasks/:id → 200 {"id"}; GET /boom → throws Error(SECRET); POST /work (JSON body) → logs
 * 'work received', awaits 20 ms, logs 'work done', 200; GET /sse → text/event-stream, 3 events
 * 100 ms apart, then ends; GET /slow?ms=N → waits N ms, 200 'done'.
 */
export type AppFactory = (deps: { health: HealthServer; logger: Logger }) => Promise<AppUnderTest>;

export const SECRET = 'connect failed: postgres://app:hunter2@db/prod';

const TRACEPARENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT_SPAN = '00f067aa0ba902b7';

function captureLogs(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l !== '') lines.push(l);
      cb();
    },
  });
  const logger = createLogger({ service: 'svc', format: 'json', destination: stream, redact: false });
  return { logger, lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function seriesLines(text: string, metric: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${metric}_count{`));
}

async function spansOf(tracing: Tracing, traceId: string): Promise<SpanRecord[]> {
  await tracing.forceFlush();
  return tracing.store?.getTrace(traceId)?.spans ?? [];
}

function serverSpans(tracing: Tracing): SpanRecord[] {
  const ids = tracing.store?.recentTraces({ limit: 1000 }).map((t) => t.traceId) ?? [];
  return ids.flatMap((id) => tracing.store?.getTrace(id)?.spans ?? []).filter((s) => s.kind === 'SERVER');
}

/** Many requests over a few keep-alive connections (fast enough for 10k). */
async function flood(url: string, paths: string[], concurrency = 32): Promise<number[]> {
  // Not sampled (flags 00): this test is about metric series; spans stay non-recording and cheap.
  const headers = { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00` };
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const codes: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++];
      codes.push(
        await new Promise<number>((resolve, reject) => {
          http
            .get(url + path, { agent, headers }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            })
            .on('error', reject);
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return codes;
}

/** The framework's own answer to a thrown error (Nest's exception filter has its own shape); never the message or stack. */
export function frameworkSuite(
  name: string,
  makeApp: AppFactory,
  errorBody: unknown = { error: 'internal error' },
): void {
  describe(`${name} integration (real ${name} on loopback)`, () => {
    let tracing: Tracing;
    let metrics: Metrics;
    let health: HealthServer;
    let app: AppUnderTest;
    let logs: ReturnType<typeof captureLogs>;

    beforeAll(async () => {
      tracing = startTracing({ serviceName: 'svc', exporter: 'memory', env: {} });
      metrics = createMetrics();
      logs = captureLogs();
      health = createHealthServer({ port: 0, metrics, drainDelayMs: 300, shutdownTimeoutMs: 5000, env: {} });
      health.addCheck({ name: 'db', run: () => ({ status: 'pass' }) });
      app = await makeApp({ health, logger: logs.logger });
      health.markReady();
    });

    afterAll(async () => {
      await app.close();
      await tracing.shutdown();
    });

    test('RED metrics are labelled by the route template: 10k distinct ids keep one series', async () => {
      const paths = Array.from({ length: 10_000 }, (_, i) => `/tasks/${i}-${Math.random().toString(36).slice(2)}`);
      const codes = await flood(app.url, paths);
      expect(codes.filter((c) => c === 200)).toHaveLength(10_000);
      await flood(app.url, ['/no/such/1', '/no/such/2', '/x']);
      const { body } = await metrics.expose();
      const series = seriesLines(body, 'periscope_http_server_request_duration_seconds');
      const tasks = series.filter((l) => l.includes('route="/tasks/:id"'));
      expect(tasks).toHaveLength(1);
      expect(tasks[0]).toMatch(/method="GET"/);
      expect(tasks[0]).toMatch(/code="200"/);
      expect(Number(tasks[0].split(' ').pop())).toBeGreaterThanOrEqual(10_000);
      expect(series.filter((l) => l.includes('route="unmatched"') && l.includes('code="404"'))).toHaveLength(1);
      expect(series.length).toBeLessThan(10);
    }, 180_000);

    test('one SERVER span `GET /tasks/:id` per request, continuing the incoming traceparent', async () => {
      const res = await request(app.url, '/tasks/42', {
        headers: { traceparent: `00-${TRACEPARENT_TRACE}-${TRACEPARENT_SPAN}-01` },
      });
      expect(res.status).toBe(200);
      const spans = await spansOf(tracing, TRACEPARENT_TRACE);
      expect(spans.filter((s) => s.kind === 'SERVER')).toHaveLength(1);
      const span = spans[0];
      expect(span.name).toBe('GET /tasks/:id');
      expect(span.parentSpanId).toBe(TRACEPARENT_SPAN);
      expect(span.attributes['http.route']).toBe('/tasks/:id');
      expect(span.attributes['http.response.status_code']).toBe(200);
      expect(span.status.code).toBe('UNSET');
    });

    test('inside an existing SERVER span (auto-instrumentation, wrapHttpHandler) it enriches that span: never two', async () => {
      const outer = http.createServer(wrapHttpHandler(app.handler));
      await new Promise<void>((resolve) => outer.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = outer.address() as { port: number };
        const res = await request(`http://127.0.0.1:${port}`, '/tasks/7', {
          headers: { traceparent: `00-${'7'.repeat(32)}-${'8'.repeat(16)}-01` },
        });
        expect(res.status).toBe(200);
        const spans = await spansOf(tracing, '7'.repeat(32));
        expect(spans).toHaveLength(1);
        expect(spans[0].name).toBe('GET /tasks/:id');
        expect(spans[0].attributes['http.route']).toBe('/tasks/:id');
        expect(spans[0].parentSpanId).toBe('8'.repeat(16));
      } finally {
        await new Promise((resolve) => outer.close(resolve));
      }
    });

    test('every log line written while handling a request carries its trace id (across awaits and body parsing)', async () => {
      const res = await request(app.url, '/work', {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` },
        body: JSON.stringify({ task: 'summarize' }),
      });
      expect(res.status).toBe(200);
      await sleep(20);
      const lines = logs.lines().filter((l) => String(l.message ?? l.body ?? '').startsWith('work '));
      expect(lines.map((l) => l.message ?? l.body)).toEqual(['work received', 'work done']);
      for (const l of lines) expect(l.trace_id).toBe('1'.repeat(32));
      const [span] = await spansOf(tracing, '1'.repeat(32));
      expect(span.name).toBe('POST /work');
      expect(lines[0].span_id).toBe(span.spanId);
    });

    test('a thrown error: 500 with no message or stack, a 5xx series, an ERROR span with the exception', async () => {
      const res = await request(app.url, '/boom', {
        headers: { traceparent: `00-${'3'.repeat(32)}-${'4'.repeat(16)}-01` },
      });
      expect(res.status).toBe(500);
      expect(JSON.parse(res.body)).toEqual(errorBody);
      expect(res.body).not.toContain('hunter2');
      expect(res.body).not.toMatch(/at .*\.ts/);
      const { body } = await metrics.expose();
      const errors = seriesLines(body, 'periscope_http_server_request_duration_seconds').filter(
        (l) => l.includes('route="/boom"') && l.includes('code="500"'),
      );
      expect(errors).toHaveLength(1);
      const [span] = await spansOf(tracing, '3'.repeat(32));
      expect(span.name).toBe('GET /boom');
      expect(span.status.code).toBe('ERROR');
      expect(span.events.some((e) => e.name === 'exception')).toBe(true);
    });

    test('an SSE stream: the span ends when the stream ends, not when the headers are sent', async () => {
      const started = Date.now();
      const res = await request(app.url, '/sse', {
        headers: { traceparent: `00-${'5'.repeat(32)}-${'6'.repeat(16)}-01` },
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/event-stream/);
      expect(res.body.match(/^data: /gm)).toHaveLength(3);
      const [span] = await spansOf(tracing, '5'.repeat(32));
      expect(span.name).toBe('GET /sse');
      // Three events 100 ms apart: the stream lasts at least ~200 ms after the first byte.
      expect(span.durationMs).toBeGreaterThanOrEqual(190);
      expect(span.endTime).toBeLessThanOrEqual(Date.now());
      expect(span.startTime).toBeGreaterThanOrEqual(started - 5);
    });

    test('probes are served on the app port with the health server checks, untraced', async () => {
      const before = serverSpans(tracing).length;
      expect((await request(app.url, '/livez')).body).toBe('ok');
      expect((await request(app.url, '/readyz?verbose')).body).toContain('[+]db ok');
      expect((await request(app.url, '/readyz/db')).status).toBe(200);
      const healthDoc = await request(app.url, '/health');
      expect(healthDoc.headers['content-type']).toBe('application/health+json');
      expect(JSON.parse(healthDoc.body).status).toBe('pass');
      const scrape = await request(app.url, '/metrics');
      expect(scrape.body).toContain('periscope_http_server_request_duration_seconds_bucket');
      expect(JSON.parse((await request(app.url, '/status')).body)).toMatchObject({ state: 'ready' });
      await tracing.forceFlush();
      expect(serverSpans(tracing).length).toBe(before);
    });

    // Last: it shuts the app down.
    test('graceful shutdown: /readyz goes 503 first, the in-flight request finishes, then the server closes', async () => {
      const slow = request(app.url, '/slow?ms=600');
      await sleep(50);
      const closing = app.close();
      const ready = await request(app.url, '/readyz');
      expect(ready.status).toBe(503);
      expect((await request(app.url, '/livez')).status).toBe(200);
      const done = await slow;
      expect(done.status).toBe(200);
      expect(done.body).toBe('done');
      const report = await closing;
      expect(report.abortedRequests).toBe(0);
      expect(app.server.listening).toBe(false);
      await expect(request(app.url, '/livez')).rejects.toThrow(/ECONNREFUSED/);
    });
  });
}
