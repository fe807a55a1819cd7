// Conformance of the HTTP spans we emit, checked against the vendored HTTP models
// (vendor/head-384d6616, Apache-2.0): SERVER spans of wrapHttpHandler (node:http) and of the
// Express integration, CLIENT spans of tracedFetch, all real requests over loopback, recorded by
// the in-memory exporter.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createHealthServer } from '@periscope/health';
import { periscopeExpress } from '@periscope/health/express';
import {
  httpClientSpanStart,
  startTracing,
  trace,
  tracedFetch,
  wrapHttpHandler,
  type SpanRecord,
  type Tracing,
} from '@periscope/tracing';
import { freePort } from '@periscope-tools/testing';
import { checkHttpSpan, checkSpan, type Conditions } from '../src/check';
import { SemconvModel } from '../src/model';

const model = new SemconvModel();
const SECRET = 'tok3n-s3cret-value';

interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<Listening> {
  server.keepAliveTimeout = 50;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** What a scenario says about a span, turned into the conditions of span.http.server / span.http.client. */
interface Scenario {
  method?: 'other';
  /** A status code was sent / received. */
  sent: boolean;
  failed: boolean;
  route?: boolean;
  query?: boolean;
}

function serverConditions(s: Scenario): Conditions {
  return {
    'http.request.method_original': s.method === 'other',
    'http.response.status_code': s.sent,
    'error.type': s.failed,
    'network.protocol.name': false,
    'http.route': s.route === true,
    'server.port': true,
    'url.query': s.query === true,
  };
}

function clientConditions(s: Scenario): Conditions {
  return {
    'http.request.method_original': s.method === 'other',
    'http.response.status_code': s.sent,
    'error.type': s.failed,
    'network.protocol.name': false,
  };
}

const ROUTES: [RegExp, string][] = [
  [/^\/items\/\d+$/, '/items/:id'],
  [/^\/fail$/, '/fail'],
  [/^\/slow$/, '/slow'],
];

describe('HTTP spans conform to the semantic conventions', () => {
  let tracing: Tracing;
  let plain: Listening;
  let proxied: Listening;
  const arrived: Array<() => void> = [];
  const fetchT = tracedFetch();

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/slow') {
      // Answers late; a client that gives up first leaves the request aborted.
      const timer = setTimeout(() => res.end('late'), 30_000);
      res.on('close', () => clearTimeout(timer));
      arrived.shift()?.();
      return;
    }
    if (path === '/fail') return void res.writeHead(503).end('down');
    if (path === '/missing') return void res.writeHead(404).end('no');
    res.end('ok');
  };

  beforeAll(async () => {
    tracing = startTracing({ serviceName: 'semconv-http', exporter: 'memory', env: {} });
    const route = (req: http.IncomingMessage) => {
      const path = (req.url ?? '/').split('?')[0];
      return ROUTES.find(([re]) => re.test(path))?.[1];
    };
    plain = await listen(http.createServer(wrapHttpHandler(handler, { route })));
    proxied = await listen(http.createServer(wrapHttpHandler(handler, { route, trustProxy: true })));
  });
  afterAll(async () => {
    await plain.close();
    await proxied.close();
    await tracing.close();
  });

  /** Runs `fn` in a trace of its own and returns the client and server spans it produced. */
  async function scenario(
    fn: () => Promise<unknown>,
    expected = 2,
  ): Promise<{ client: SpanRecord; server: SpanRecord }> {
    const id = await trace('scenario', async (span) => {
      await fn().catch(() => undefined);
      return span.spanContext().traceId;
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const spans = tracing.store!.getTrace(id)?.spans.filter((s) => s.kind === 'SERVER' || s.kind === 'CLIENT') ?? [];
      if (spans.length >= expected || Date.now() > deadline)
        return {
          client: spans.find((s) => s.kind === 'CLIENT')!,
          server: spans.find((s) => s.kind === 'SERVER')!,
        };
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  function conform(span: SpanRecord, s: Scenario): string[] {
    const group = span.kind === 'SERVER' ? 'span.http.server' : 'span.http.client';
    const conditions = span.kind === 'SERVER' ? serverConditions(s) : clientConditions(s);
    return [...checkSpan(model, group, span, conditions), ...checkHttpSpan(span)];
  }

  it('a routed GET with a secret in the query: names by route, redacts the query, carries server/client/network', async () => {
    const { client, server } = await scenario(() => fetchT(`${plain.url}/items/42?token=${SECRET}&q=x`));
    expect(conform(server, { sent: true, failed: false, route: true, query: true })).toEqual([]);
    expect(conform(client, { sent: true, failed: false })).toEqual([]);
    expect(server.name).toBe('GET /items/:id');
    expect(server.attributes).toMatchObject({
      'url.path': '/items/42',
      'url.query': 'token=REDACTED&q=x',
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'server.port': plain.port,
      'client.address': '127.0.0.1',
      'network.protocol.version': '1.1',
      'http.response.status_code': 200,
    });
    expect(typeof server.attributes['user_agent.original']).toBe('string');
    expect(client.name).toBe('GET');
    expect(client.attributes).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': plain.port,
      'url.full': `${plain.url}/items/42?token=REDACTED&q=x`,
    });
    expect(JSON.stringify([client, server])).not.toContain(SECRET);
  });

  it('a 404 is no server error but a client one, with error.type the status code', async () => {
    const { client, server } = await scenario(() => fetchT(`${plain.url}/missing`));
    expect(conform(server, { sent: true, failed: false })).toEqual([]);
    expect(conform(client, { sent: true, failed: true })).toEqual([]);
    expect(server.name).toBe('GET'); // no route known: never the raw path
    expect(server.status.code).toBe('UNSET');
    expect(client.attributes['error.type']).toBe('404');
  });

  it('a 503 is an error on both sides, error.type "503"', async () => {
    const { client, server } = await scenario(() => fetchT(`${plain.url}/fail`, { method: 'POST' }));
    expect(conform(server, { sent: true, failed: true, route: true })).toEqual([]);
    expect(conform(client, { sent: true, failed: true })).toEqual([]);
    expect([server.attributes['error.type'], client.attributes['error.type']]).toEqual(['503', '503']);
  });

  it('an unknown method is _OTHER with its original, and the span is named HTTP', async () => {
    const { client, server } = await scenario(() => fetchT(`${plain.url}/items/1`, { method: 'PURGE' }));
    expect(conform(server, { method: 'other', sent: true, failed: false, route: true })).toEqual([]);
    expect(conform(client, { method: 'other', sent: true, failed: false })).toEqual([]);
    expect([server.name, client.name]).toEqual(['HTTP /items/:id', 'HTTP']);
    expect(server.attributes['http.request.method_original']).toBe('PURGE');
  });

  it("a caller's abort is no client error; the server records the aborted request", async () => {
    const controller = new AbortController();
    const { client, server } = await scenario(async () => {
      const there = new Promise<void>((r) => arrived.push(r));
      const pending = fetchT(`${plain.url}/slow`, { signal: controller.signal });
      await there;
      controller.abort();
      await pending;
    });
    expect(conform(client, { sent: false, failed: false })).toEqual([]);
    expect(client.status.code).toBe('UNSET');
    expect(conform(server, { sent: false, failed: true, route: true })).toEqual([]);
    expect(server.attributes['error.type']).toBe('aborted');
  });

  it('a timeout and a refused connection are client errors typed timeout and ECONNREFUSED', async () => {
    const timedOut = await scenario(async () => {
      const there = new Promise<void>((r) => arrived.push(r));
      const pending = fetchT(`${plain.url}/slow`, { signal: AbortSignal.timeout(300) });
      await there;
      await pending;
    });
    expect(conform(timedOut.client, { sent: false, failed: true })).toEqual([]);
    expect(timedOut.client.attributes['error.type']).toBe('timeout');
    const port = await freePort();
    const refused = await scenario(() => fetchT(`http://127.0.0.1:${port}/x`), 1);
    expect(conform(refused.client, { sent: false, failed: true })).toEqual([]);
    expect(refused.client.attributes['error.type']).toBe('ECONNREFUSED');
  });

  it('behind a trusted proxy: client.address, server.* and url.scheme from the forwarded headers', async () => {
    const headers = {
      'x-forwarded-for': '203.0.113.9, 10.0.0.1',
      'x-forwarded-host': 'shop.example:8443',
      'x-forwarded-proto': 'https',
    };
    const trusted = await scenario(() => fetchT(`${proxied.url}/items/3`, { headers }));
    expect(conform(trusted.server, { sent: true, failed: false, route: true })).toEqual([]);
    expect(trusted.server.attributes).toMatchObject({
      'client.address': '203.0.113.9',
      'network.peer.address': '127.0.0.1',
      'server.address': 'shop.example',
      'server.port': 8443,
      'url.scheme': 'https',
    });
    // The same headers from anyone, without the option, change nothing.
    const untrusted = await scenario(() => fetchT(`${plain.url}/items/3`, { headers }));
    expect(untrusted.server.attributes).toMatchObject({
      'client.address': '127.0.0.1',
      'server.address': '127.0.0.1',
      'url.scheme': 'http',
    });
  });

  it('url.full never carries credentials or secret query values; an IPv6 host loses its brackets', () => {
    const { attributes } = httpClientSpanStart('GET', `https://user:pw@[::1]:8443/a?api_key=${SECRET}&x=1`);
    expect(attributes).toMatchObject({
      'url.full': 'https://REDACTED:REDACTED@[::1]:8443/a?api_key=REDACTED&x=1',
      'server.address': '::1',
      'server.port': 8443,
    });
    expect(httpClientSpanStart('GET', 'https://example.com/').attributes['server.port']).toBe(443);
  });

  it('the checks can fail: a raw-path name, a server 4xx marked as error, a client 404 left unmarked', () => {
    const base = { 'http.request.method': 'GET', 'url.path': '/users/7', 'url.scheme': 'http' };
    expect(
      checkHttpSpan({ name: 'GET /users/7', kind: 'SERVER', status: { code: 'UNSET' }, attributes: base }),
    ).toEqual([expect.stringContaining("the conventions name it 'GET'")]);
    expect(
      checkHttpSpan({
        name: 'GET',
        kind: 'SERVER',
        status: { code: 'ERROR' },
        attributes: { ...base, 'http.response.status_code': 404 },
      }),
    ).toEqual([expect.stringContaining('status ERROR without error.type'), expect.stringContaining('no server error')]);
    expect(
      checkHttpSpan({
        name: 'GET',
        kind: 'CLIENT',
        status: { code: 'UNSET' },
        attributes: { 'http.request.method': 'GET', 'http.response.status_code': 404 },
      }),
    ).toEqual([expect.stringContaining('status code 404 is an error here')]);
    expect(
      checkSpan(
        model,
        'span.http.client',
        { name: 'GET', kind: 'CLIENT', status: { code: 'UNSET' }, attributes: { 'http.method': 'GET' } },
        clientConditions({ sent: false, failed: false }),
      ),
    ).toEqual(
      expect.arrayContaining([
        expect.stringContaining("'http.method' is deprecated"),
        expect.stringContaining("required 'server.address' is missing"),
        expect.stringContaining("required 'url.full' is missing"),
      ]),
    );
  });
});

describe('the Express integration emits conformant SERVER spans', () => {
  let tracing: Tracing;
  let app: Listening;
  let closeApp: () => Promise<unknown>;

  beforeAll(async () => {
    tracing = startTracing({ serviceName: 'semconv-express', exporter: 'memory', env: {} });
    const health = createHealthServer({ port: 0, metrics: false, env: {} });
    const periscope = periscopeExpress({ health });
    const e = express();
    e.use(periscope.middleware);
    e.get('/tasks/:id', (req, res) => void res.json({ id: req.params.id }));
    e.get('/boom', () => {
      throw new Error('boom');
    });
    e.use(periscope.errorHandler);
    const server = periscope.attach(http.createServer(e));
    app = await listen(server);
    closeApp = () => periscope.close();
  });
  afterAll(async () => {
    await closeApp();
    await tracing.close();
  });

  async function serverSpan(path: string): Promise<SpanRecord> {
    const id = await trace('scenario', async (span) => {
      await tracedFetch()(`${app.url}${path}`).then((r) => r.text());
      return span.spanContext().traceId;
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = tracing.store!.getTrace(id)?.spans.find((s) => s.kind === 'SERVER');
      if (found || Date.now() > deadline) return found!;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('routed, unmatched and failing requests', async () => {
    const routed = await serverSpan('/tasks/7?debug=1');
    expect(
      checkSpan(
        model,
        'span.http.server',
        routed,
        serverConditions({ sent: true, failed: false, route: true, query: true }),
      ),
    ).toEqual([]);
    expect(checkHttpSpan(routed)).toEqual([]);
    expect(routed.name).toBe('GET /tasks/:id');
    const unmatched = await serverSpan('/nowhere/123');
    expect(checkSpan(model, 'span.http.server', unmatched, serverConditions({ sent: true, failed: false }))).toEqual(
      [],
    );
    expect(checkHttpSpan(unmatched)).toEqual([]);
    expect(unmatched.name).toBe('GET');
    const failing = await serverSpan('/boom');
    expect(
      checkSpan(model, 'span.http.server', failing, serverConditions({ sent: true, failed: true, route: true })),
    ).toEqual([]);
    expect(checkHttpSpan(failing)).toEqual([]);
    expect(failing.attributes['http.response.status_code']).toBe(500);
  });
});
