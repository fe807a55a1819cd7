import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, ROOT_CONTEXT, trace as otelTrace } from '@opentelemetry/api';
import { extract, inject, trace, traceHeaders, tracedFetch, wrapHttpHandler, type Tracing } from '../src';
import { startMemory } from './helpers';

interface Server {
  url: string;
  close(): Promise<void>;
}

async function serve(handler: http.RequestListener): Promise<Server> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 50;
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

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

describe('propagation across two HTTP servers', () => {
  let tracing: Tracing;
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    await tracing.close();
  });

  async function startPair() {
    const seenByB: http.IncomingHttpHeaders[] = [];
    const b = await serve(
      wrapHttpHandler((req, res) => {
        seenByB.push(req.headers);
        const tenant = propagation.getActiveBaggage()?.getEntry('tenant')?.value ?? '';
        res.writeHead(req.url === '/fail' ? 503 : 200).end(tenant);
      }),
    );
    const fetchT = tracedFetch();
    const a = await serve(
      wrapHttpHandler(async (req, res) => {
        if (req.url === '/livez') return void res.end('ok');
        const downstream = await fetchT(`${b.url}${req.url === '/tasks?fail=1' ? '/fail' : '/work'}`, {
          method: 'POST',
        });
        res.writeHead(downstream.status >= 500 ? 502 : 200).end(await downstream.text());
      }),
    );
    servers.push(a, b);
    return { a, b, seenByB };
  }

  it('continues an incoming traceparent through server A, its fetch, and server B, with baggage', async () => {
    tracing = startMemory();
    const { a, seenByB } = await startPair();
    const res = await fetch(`${a.url}/tasks`, {
      method: 'POST',
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'vendor=x', baggage: 'tenant=acme' },
    });
    expect(await res.text()).toBe('acme'); // baggage crossed both hops
    await tracing.forceFlush();
    const spans = tracing.store!.getTrace(TRACE_ID)!.spans;
    const serverA = spans.find((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/tasks')!;
    const client = spans.find((s) => s.kind === 'CLIENT')!;
    const serverB = spans.find((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/work')!;
    expect(serverA).toMatchObject({
      name: 'POST', // no route given: the method alone, never the raw path
      kind: 'SERVER',
      parentSpanId: PARENT_ID,
      attributes: { 'http.request.method': 'POST', 'url.path': '/tasks', 'http.response.status_code': 200 },
    });
    expect(client).toMatchObject({
      name: 'POST',
      parentSpanId: serverA.spanId,
      attributes: { 'http.response.status_code': 200 },
    });
    expect(client.attributes['url.full']).toBe(`${servers[1].url}/work`);
    expect(serverB).toMatchObject({ kind: 'SERVER', parentSpanId: client.spanId });
    expect(seenByB[0].traceparent).toBe(`00-${TRACE_ID}-${client.spanId}-01`);
    expect(seenByB[0].tracestate).toBe('vendor=x');
  });

  it('marks 5xx as ERROR on both sides and does not trace probe routes', async () => {
    tracing = startMemory();
    const { a } = await startPair();
    expect((await fetch(`${a.url}/livez`)).status).toBe(200);
    expect((await fetch(`${a.url}/tasks?fail=1`, { method: 'POST' })).status).toBe(502);
    await tracing.forceFlush();
    const traces = tracing.store!.recentTraces();
    expect(traces).toHaveLength(1);
    const spans = tracing.store!.getTrace(traces[0].traceId)!.spans;
    expect(spans.map((s) => s.name)).toEqual(['POST', 'POST', 'POST']);
    expect(spans.map((s) => s.status.code)).toEqual(['ERROR', 'ERROR', 'ERROR']);
    expect(spans.map((s) => s.attributes['url.path'] ?? s.kind).sort()).toEqual(['/fail', '/tasks', 'CLIENT']);
  });

  it('starts a new trace for every malformed header shape; extract() gives back the base context as is', async () => {
    tracing = startMemory();
    const seen: string[] = [];
    const s = await serve(
      wrapHttpHandler((_req, res) => {
        seen.push(otelTrace.getActiveSpan()!.spanContext().traceId);
        res.end();
      }),
    );
    servers.push(s);
    const bad: Record<string, string>[] = [
      { traceparent: '' },
      { traceparent: 'garbage' },
      { traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` }, // all-zero trace id
      { traceparent: `00-${TRACE_ID}-${'0'.repeat(16)}-01` }, // all-zero span id
      { traceparent: `ff-${TRACE_ID}-${PARENT_ID}-01` }, // forbidden version
      { traceparent: `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01` }, // uppercase hex
      { traceparent: `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01` }, // short trace id
      { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01-extra` }, // trailing data on version 00
      { traceparent: `00-${TRACE_ID.replace('4', 'g')}-${PARENT_ID}-01` }, // non-hex
      { traceparent: `00-${TRACE_ID}-${PARENT_ID}` }, // missing flags
      { traceparent: `00-${TRACE_ID}-${PARENT_ID}-0x` }, // bad flags
      { traceparent: 'x'.repeat(8192) },
      { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`.replace(/-/g, '_') },
      { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: '=,,,=bad==' },
      { baggage: '%%%;;;==,=' },
      { baggage: `k=${'v'.repeat(9000)}` },
    ];
    for (const headers of bad) {
      const res = await fetch(s.url + '/x', { headers });
      expect(res.status).toBe(200);
    }
    expect(seen).toHaveLength(bad.length);
    await tracing.forceFlush();
    const validTraceparent = bad.findIndex((h) => h.tracestate !== undefined);
    seen.forEach((id, i) => {
      const root = tracing.store!.getTrace(id)!.spans[0];
      if (i === validTraceparent) {
        expect(id).toBe(TRACE_ID);
        return;
      } // a bad tracestate alone keeps a valid parent
      expect(id).not.toBe(TRACE_ID);
      expect(root.parentSpanId).toBeUndefined();
    });
    // extract() directly, with arrays and odd carriers: the very context passed in comes back, with
    // no remote parent and no baggage (a bad tracestate alone keeps the parent: checked above).
    const base = otelTrace.setSpanContext(ROOT_CONTEXT, {
      traceId: 'c'.repeat(32),
      spanId: 'd'.repeat(16),
      traceFlags: 1,
    });
    for (const carrier of [
      ...bad.filter((h) => h.tracestate === undefined),
      { traceparent: ['a', 'b'] as unknown as string },
      null,
      undefined,
      'str' as unknown as Record<string, string>,
    ]) {
      expect(extract(carrier, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
      expect(extract(carrier, base)).toBe(base); // an existing parent is not replaced by garbage
    }
    expect(otelTrace.getSpanContext(extract({ traceparent: 'garbage' }, ROOT_CONTEXT))).toBeUndefined();
    // Two traceparent headers (joined by Node, or an array from a hand-built carrier) are invalid
    // per the W3C spec: a new trace starts. A single-element array is one header.
    expect(
      otelTrace.getSpanContext(extract({ traceparent: [`00-${TRACE_ID}-${PARENT_ID}-01`, 'x'] }, ROOT_CONTEXT)),
    ).toBeUndefined();
    expect(
      otelTrace.getSpanContext(
        extract({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-01, 00-${TRACE_ID}-${PARENT_ID}-01` }, ROOT_CONTEXT),
      ),
    ).toBeUndefined();
    expect(
      otelTrace.getSpanContext(extract({ traceparent: [`00-${TRACE_ID}-${PARENT_ID}-01`] }, ROOT_CONTEXT))?.traceId,
    ).toBe(TRACE_ID);
  });

  it('records a handler rejection on the server span', async () => {
    tracing = startMemory();
    const wrapped = wrapHttpHandler(
      async () => {
        throw new Error('handler failed');
      },
      { route: () => '/jobs/:id' },
    );
    const s = await serve((req, res) => {
      wrapped(req, res).catch(() => res.writeHead(500).end());
    });
    servers.push(s);
    expect((await fetch(`${s.url}/jobs/42?x=1`)).status).toBe(500);
    await tracing.forceFlush();
    const span = tracing.store!.getTrace(tracing.store!.recentTraces()[0].traceId)!.spans[0];
    expect(span).toMatchObject({
      name: 'GET /jobs/:id',
      kind: 'SERVER',
      status: { code: 'ERROR' },
      attributes: {
        'http.route': '/jobs/:id',
        'url.path': '/jobs/42',
        'http.response.status_code': 500,
        'error.type': 'Error',
      },
    });
    expect(span.events[0].attributes['exception.message']).toBe('handler failed');
  });

  it('traceHeaders() propagates through a plain node:http request', async () => {
    tracing = startMemory();
    let got: string | undefined;
    const s = await serve((req, res) => {
      got = req.headers.traceparent as string;
      res.end();
    });
    servers.push(s);
    const spanId = await trace(
      'outgoing',
      (span) =>
        new Promise<string>((resolve, reject) => {
          http
            .request(s.url, { headers: traceHeaders({ 'x-custom': '1' }) }, (res) => {
              res.resume();
              res.on('end', () => resolve(span.spanContext().spanId));
            })
            .on('error', reject)
            .end();
        }),
    );
    expect(got).toMatch(new RegExp(`^00-[0-9a-f]{32}-${spanId}-03$`)); // sampled + our random trace id (Level 2)
  });

  it('tracedFetch records a network error as ERROR and rethrows', async () => {
    tracing = startMemory();
    const s = await serve((_req, res) => res.end());
    const url = s.url;
    await s.close();
    await expect(trace('root', () => tracedFetch()(url))).rejects.toThrow();
    await tracing.forceFlush();
    const spans = tracing.store!.getTrace(tracing.store!.recentTraces()[0].traceId)!.spans;
    expect(spans.find((x) => x.kind === 'CLIENT')!.status.code).toBe('ERROR');
  });
});

describe('inject/extract', () => {
  let tracing: Tracing;
  afterEach(() => tracing.close());

  it('round-trips W3C trace context; injects nothing without an active span', () => {
    tracing = startMemory();
    expect(inject({}, ROOT_CONTEXT)).toEqual({});
    const carrier = trace('x', () => inject({} as Record<string, string>));
    const ctx = extract(carrier, ROOT_CONTEXT);
    const sc = otelTrace.getSpanContext(ctx)!;
    expect(carrier.traceparent).toBe(`00-${sc.traceId}-${sc.spanId}-03`); // sampled + random (our own trace id)
    expect(sc.isRemote).toBe(true);
  });

  it('speaks B3 (single and multi header) when configured', async () => {
    tracing = startMemory({ propagators: ['b3multi'] });
    const multi = trace('x', (s) => ({ h: inject({} as Record<string, string>), id: s.spanContext().traceId }));
    expect(multi.h['x-b3-traceid']).toBe(multi.id);
    expect(multi.h.traceparent).toBeUndefined();
    await tracing.close();
    tracing = startMemory({ env: { OTEL_PROPAGATORS: 'b3,tracecontext' } });
    const ctx = extract({ b3: `${TRACE_ID}-${PARENT_ID}-1` }, ROOT_CONTEXT);
    expect(otelTrace.getSpanContext(ctx)?.traceId).toBe(TRACE_ID);
    const id = context.with(ctx, () => trace('child', (s) => s.spanContext().traceId));
    expect(id).toBe(TRACE_ID);
  });
});
