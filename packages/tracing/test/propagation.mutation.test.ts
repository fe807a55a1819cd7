// Issue 21 (mutation testing): what inject()/extract() and the W3C propagator read and write, one
// case per rule (header names in any case, numeric values, arrays, field bounds, the flags), and
// what wrapHttpHandler does with paths, return values, throws and aborted requests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  context,
  createContextKey,
  defaultTextMapSetter,
  diag,
  DiagLogLevel,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace as otelTrace,
  TraceFlags,
  type Context,
} from '@opentelemetry/api';
import {
  extract,
  inject,
  parseTraceparent,
  parseTracestate,
  traceHeaders,
  TraceContextPropagator,
  W3CTraceState,
  wrapHttpHandler,
  type Tracing,
} from '../src';
import { OwnTraceIds } from '../src/w3c';
import { startMemory } from './helpers';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${PARENT_ID}-01`;

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.close();
  tracing = undefined;
});

const spanContextOf = (ctx: Context) => otelTrace.getSpanContext(ctx);

describe('extract: the context that comes back', () => {
  const APP_KEY = createContextKey('app.value');
  // A base that already carries a span and a value of the application's own.
  const base = otelTrace
    .setSpanContext(ROOT_CONTEXT, { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 })
    .setValue(APP_KEY, 'kept');

  it('is the base context itself, untouched, for malformed and hostile carriers', () => {
    tracing = startMemory();
    const throwing = {
      get traceparent(): string {
        throw new Error('hostile getter');
      },
    };
    const proxy = new Proxy({} as Record<string, string>, {
      get() {
        throw new Error('hostile proxy');
      },
      ownKeys() {
        throw new Error('hostile proxy');
      },
    });
    const carriers: unknown[] = [
      null,
      undefined,
      'traceparent',
      42,
      {},
      { traceparent: '' },
      { traceparent: 'garbage' },
      { traceparent: [] },
      { traceparent: [VALID, VALID] }, // two headers: invalid
      { traceparent: `${VALID},${VALID}` },
      { traceparent: 12345 },
      { traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` },
      { traceparent: `00-${TRACE_ID}-${'0'.repeat(16)}-01` },
      { traceparent: `x${VALID}` },
      { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01x` },
      { traceparent: `cc-${TRACE_ID}-${PARENT_ID}-01x` }, // a later version still needs '-' after the flags
      { tracestate: 'a=1' }, // tracestate without a traceparent
      throwing,
      proxy,
    ];
    for (const carrier of carriers) expect(extract(carrier as Record<string, string>, base)).toBe(base);
    expect(spanContextOf(base)!.traceId).toBe('c'.repeat(32));
  });

  it('a valid traceparent gives a remote parent on top of the base, keeping its other values', () => {
    tracing = startMemory();
    const ctx = extract({ traceparent: VALID, tracestate: 'B=bad' }, base);
    expect(spanContextOf(ctx)).toEqual({ traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 1, isRemote: true });
    expect(ctx.getValue(APP_KEY)).toBe('kept');
  });

  it('finds header names in any case in a hand-built carrier', () => {
    tracing = startMemory();
    const ctx = extract({ TraceParent: VALID, TRACESTATE: 'v=1' }, ROOT_CONTEXT);
    expect(spanContextOf(ctx)?.traceId).toBe(TRACE_ID);
    expect(spanContextOf(ctx)?.traceState?.serialize()).toBe('v=1');
  });

  it('the exact header name wins over other spellings of it', () => {
    tracing = startMemory();
    const ctx = extract({ TRACEPARENT: 'garbage', traceparent: VALID }, ROOT_CONTEXT);
    expect(spanContextOf(ctx)?.traceId).toBe(TRACE_ID);
  });

  it('reads numeric header values as their decimal text (B3 debug flag 1)', () => {
    tracing = startMemory({ propagators: ['b3multi'] });
    const ctx = extract({ 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': PARENT_ID, 'x-b3-flags': 1 }, ROOT_CONTEXT);
    expect(spanContextOf(ctx)).toMatchObject({ traceId: TRACE_ID, traceFlags: TraceFlags.SAMPLED });
  });

  it('keeps only the known flags, and joins tracestate headers sent more than once', () => {
    tracing = startMemory();
    const ctx = extract({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-ff`, tracestate: ['a=1', 'b=2'] }, ROOT_CONTEXT);
    expect(spanContextOf(ctx)!.traceFlags).toBe(0x03);
    expect(spanContextOf(ctx)!.traceState!.serialize()).toBe('a=1,b=2');
    const one = extract({ traceparent: [VALID], tracestate: ['x=1'] }, ROOT_CONTEXT);
    expect(spanContextOf(one)!.traceState!.serialize()).toBe('x=1');
    for (const tracestate of [[], ' , ', 'B=illegal'])
      expect(spanContextOf(extract({ traceparent: VALID, tracestate }, ROOT_CONTEXT))!.traceState).toBeUndefined();
  });
});

describe('traceparent fields', () => {
  it('accepts ids that start or end with zeros, surrounding whitespace, and later versions with more fields', () => {
    const t = '0af7651916cd43dd8448eb211c803190';
    const s = '0b7ad6b7169203c0';
    expect(parseTraceparent(`  00-${t}-${s}-01\t`)).toEqual({ traceId: t, spanId: s, flags: 1 });
    expect(parseTraceparent(`cc-${t}-${s}-02-future-fields`)).toEqual({ traceId: t, spanId: s, flags: 2 });
    expect(parseTraceparent(`01-${t}-${s}-09`)).toEqual({ traceId: t, spanId: s, flags: 9 });
    expect(parseTraceparent(`00-${t}-${s}-01-x`)).toBeUndefined();
    expect(parseTraceparent(`ff-${t}-${s}-01-x`)).toBeUndefined();
  });

  it('takes headers up to 8192 characters, not one more', () => {
    const head = `01-${TRACE_ID}-${PARENT_ID}-01-`;
    expect(parseTraceparent(head + 'x'.repeat(8192 - head.length))?.traceId).toBe(TRACE_ID);
    expect(parseTraceparent(head + 'x'.repeat(8193 - head.length))).toBeUndefined();
    expect(parseTracestate(' '.repeat(8192 - 3) + 'k=v')).toEqual([['k', 'v']]);
    expect(parseTracestate(' '.repeat(8193 - 3) + 'k=v')).toBeUndefined();
  });
});

describe('tracestate members', () => {
  it('skips empty members, keeps the first of a duplicated key, and keeps values exactly', () => {
    expect(parseTracestate('a=1,, b=x y ,a=2,c@v=-*/')).toEqual([
      ['a', '1'],
      ['b', 'x y'],
      ['c@v', '-*/'],
    ]);
    expect(parseTracestate('')).toEqual([]);
  });

  it('keys: a lowercase letter or digit first, up to 256 characters; values: 1 to 256 characters', () => {
    const key256 = 'k'.repeat(256);
    const value256 = 'v'.repeat(256);
    expect(parseTracestate(`${key256}=1`)).toEqual([[key256, '1']]);
    expect(parseTracestate(`${key256}k=1`)).toBeUndefined();
    expect(parseTracestate(`9a_-*/@=${value256}`)).toEqual([['9a_-*/@', value256]]);
    expect(parseTracestate(`a=${value256}v`)).toBeUndefined();
    for (const bad of ['_a=1', '-a=1', 'A=1', 'a=', '=1', 'a', 'abc', 'a=1,abc', 'a=x,b=\u00e9'])
      expect(parseTracestate(bad)).toBeUndefined();
    expect(parseTracestate('a= 1, b=1 2 ')).toEqual([
      ['a', ' 1'],
      ['b', '1 2'],
    ]);
  });

  it('32 distinct members pass even with a duplicate among them', () => {
    const list = Array.from({ length: 32 }, (_, i) => `k${i}=v`);
    expect(parseTracestate([...list, 'k0=dup'].join(','))).toHaveLength(32);
  });

  it('W3CTraceState: set puts the key first (replacing it), refuses illegal ones, keeps 32; unset removes', () => {
    const state = new W3CTraceState([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(state.get('b')).toBe('2');
    expect(state.get('z')).toBeUndefined();
    expect(state.set('b', '3').serialize()).toBe('b=3,a=1');
    expect(state.set('c', '4').serialize()).toBe('c=4,a=1,b=2');
    expect(state.set('B', '4')).toBe(state);
    expect(state.set('c', 'x=y')).toBe(state);
    expect(state.unset('a').serialize()).toBe('b=2');
    expect(state.serialize()).toBe('a=1,b=2'); // immutable
    let full: W3CTraceState = new W3CTraceState();
    for (let i = 0; i < 33; i++) full = full.set(`k${i}`, 'v') as W3CTraceState;
    expect(full.serialize().split(',')).toHaveLength(32);
    expect(full.get('k32')).toBe('v');
    expect(full.get('k0')).toBeUndefined();
  });
});

describe('inject', () => {
  it('writes into the given carrier and returns it; nothing for an invalid span context', () => {
    tracing = startMemory();
    const carrier: Record<string, string> = { existing: '1' };
    const ctx = otelTrace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 1 });
    expect(inject(carrier, ctx)).toBe(carrier);
    expect(carrier).toEqual({ existing: '1', traceparent: VALID });
    const invalid = otelTrace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0'.repeat(32),
      spanId: PARENT_ID,
      traceFlags: 1,
    });
    expect(inject({}, invalid)).toEqual({});
  });

  it('sends the flags it knows: sampled as given, random when the context says so or the trace id is ours', () => {
    tracing = startMemory();
    const out = (traceFlags: number) =>
      inject(
        {} as Record<string, string>,
        otelTrace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: PARENT_ID, traceFlags }),
      ).traceparent;
    expect([0x00, 0x01, 0x02, 0x03, 0xff].map(out)).toEqual(
      ['00', '01', '02', '03', '03'].map((f) => `00-${TRACE_ID}-${PARENT_ID}-${f}`),
    );
    // A new root started in a context extracted from a non-random parent: its trace id is ours, so random.
    const extracted = extract({ traceparent: VALID }, ROOT_CONTEXT);
    const fresh = tracing.tracer.startSpan('fresh', { root: true }, extracted);
    const headers = inject({} as Record<string, string>, otelTrace.setSpan(extracted, fresh));
    fresh.end();
    expect(headers.traceparent).toBe(`00-${fresh.spanContext().traceId}-${fresh.spanContext().spanId}-03`);
  });

  it('TraceContextPropagator works standalone, without our id generator (no random flag unless told)', () => {
    const p = new TraceContextPropagator();
    const carrier: Record<string, string> = {};
    const ctx = otelTrace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 1 });
    p.inject(ctx, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ traceparent: VALID });
    expect(p.fields()).toEqual(['traceparent', 'tracestate']);
  });

  it('the W3C fields are announced for CORS and proxies', () => {
    tracing = startMemory();
    expect(propagation.fields()).toEqual(expect.arrayContaining(['traceparent', 'tracestate', 'baggage']));
  });

  it('traceHeaders copies the caller headers (never changing them) and adds the given context', () => {
    tracing = startMemory();
    const mine = { 'x-custom': '1', accept: ['a', 'b'], 'content-length': 3 };
    const ctx = otelTrace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 1 });
    expect(traceHeaders(mine, ctx)).toEqual({ ...mine, traceparent: VALID });
    expect(mine).not.toHaveProperty('traceparent');
    expect(context.with(ctx, () => traceHeaders())).toEqual({ traceparent: VALID });
  });
});

describe('OwnTraceIds', () => {
  it('remembers the last `capacity` trace ids it generated', () => {
    const ids = new OwnTraceIds(2);
    const [a, b, c] = [ids.generateTraceId(), ids.generateTraceId(), ids.generateTraceId()];
    expect([a, b, c].map((t) => ids.has(t))).toEqual([false, true, true]);
    expect(ids.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('wrapHttpHandler', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  async function serve(listener: http.RequestListener): Promise<string> {
    const server = http.createServer(listener);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const spansOf = () =>
    tracing!.store!.recentTraces({ limit: 100 }).flatMap((t) => tracing!.store!.getTrace(t.traceId)!.spans);

  it('leaves ignored paths untraced (strings and RegExps, query ignored); the default ignores probes', async () => {
    tracing = startMemory({ dropRules: [] });
    const traced: Record<string, boolean> = {};
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      traced[req.url!] = otelTrace.getActiveSpan() !== undefined;
      res.end();
    };
    const custom = await serve(wrapHttpHandler(handler, { ignorePaths: ['/skip', /^\/internal\//] }));
    const byDefault = await serve(wrapHttpHandler(handler));
    for (const path of ['/skip?x=1', '/internal/a', '/skipped', '/livez']) await fetch(custom + path);
    for (const path of ['/readyz?verbose', '/metrics', '/work']) await fetch(byDefault + path);
    expect(traced).toEqual({
      '/skip?x=1': false,
      '/internal/a': false,
      '/skipped': true,
      '/livez': true,
      '/readyz?verbose': false,
      '/metrics': false,
      '/work': true,
    });
    expect(
      spansOf()
        .map((s) => s.attributes['url.path'])
        .sort(),
    ).toEqual(['/livez', '/skipped', '/work']);
  });

  it("returns the handler's own value, rethrows its throw, and marks a throw as an error, never a 4xx", async () => {
    tracing = startMemory();
    const returned: unknown[] = [];
    const thrown: unknown[] = [];
    const boom = new Error('sync boom');
    const wrapped = wrapHttpHandler((req, res) => {
      if (req.url === '/throw') throw boom;
      res.writeHead(req.url === '/missing' ? 404 : 200).end();
      return 42;
    });
    const url = await serve((req, res) => {
      try {
        returned.push(wrapped(req, res));
      } catch (e) {
        thrown.push(e);
        res.writeHead(500).end();
      }
    });
    expect((await fetch(`${url}/ok`)).status).toBe(200);
    expect((await fetch(`${url}/missing`)).status).toBe(404);
    expect((await fetch(`${url}/throw`)).status).toBe(500);
    expect(returned).toEqual([42, 42]);
    expect(thrown).toEqual([boom]);
    const byPath = Object.fromEntries(spansOf().map((s) => [s.attributes['url.path'], s]));
    expect(byPath['/ok'].status.code).toBe('UNSET');
    expect(byPath['/missing'].status.code).toBe('UNSET');
    expect(byPath['/throw']).toMatchObject({
      status: { code: 'ERROR', message: 'sync boom' },
      attributes: { 'error.type': 'Error', 'http.response.status_code': 500 },
    });
    expect(byPath['/throw'].events[0].attributes['exception.message']).toBe('sync boom');
  });

  it('an async handler: the rejection reaches the caller as is', async () => {
    tracing = startMemory();
    const err = new TypeError('async boom');
    const wrapped = wrapHttpHandler(async () => {
      throw err;
    });
    const seen: unknown[] = [];
    const url = await serve((req, res) => {
      (wrapped(req, res) as Promise<unknown>).catch((e: unknown) => {
        seen.push(e);
        res.writeHead(500).end();
      });
    });
    expect((await fetch(url)).status).toBe(500);
    expect(seen).toEqual([err]);
    expect(spansOf()[0]).toMatchObject({ status: { code: 'ERROR' }, attributes: { 'error.type': 'TypeError' } });
  });

  it('with the http instrumentation on: names its SERVER span by the route and starts no span of its own', async () => {
    tracing = startMemory({ instrumentations: ['http'] });
    // Jest's VM runs no require hooks, so the instrumentation cannot patch node:http here: a SERVER
    // span started around the call stands in for the one it opens per request.
    const wrapped = wrapHttpHandler(
      (_req, res) => {
        res.end();
        return 'handled';
      },
      { route: (req) => (req.url === '/r/1' ? '/r/:id' : undefined) },
    );
    const returned: unknown[] = [];
    const url = await serve((req, res) => {
      try {
        if (req.headers['x-bare'] !== undefined) return void returned.push(wrapped(req, res));
        const span = tracing!.tracer.startSpan('GET', { kind: SpanKind.SERVER });
        returned.push(context.with(otelTrace.setSpan(context.active(), span), () => wrapped(req, res)));
        span.end();
      } catch {
        res.writeHead(500).end();
      }
    });
    for (const path of ['/r/1', '/other']) expect((await fetch(url + path)).status).toBe(200);
    expect((await fetch(url + '/r/1', { headers: { 'x-bare': '1' } })).status).toBe(200); // no active span
    expect(returned).toEqual(['handled', 'handled', 'handled']);
    expect(
      spansOf()
        .map((s) => `${s.name} ${s.attributes['http.route']}`)
        .sort(),
    ).toEqual(['GET /r/:id /r/:id', 'GET undefined']);
  }, 60_000); // loading the NodeSDK and the instrumentation takes seconds on a loaded machine

  it('gives OpenTelemetry nothing to complain about: a missing carrier, a span ended once', async () => {
    tracing = startMemory();
    const messages: unknown[][] = [];
    const log = (...args: unknown[]) => void messages.push(args);
    const quiet = () => undefined;
    diag.setLogger({ error: log, warn: log, info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.WARN);
    try {
      for (const carrier of [null, undefined]) expect(extract(carrier, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
      let closed!: Promise<void>;
      const wrapped = wrapHttpHandler((_req, res) => res.end('ok'));
      const url = await serve((req, res) => {
        wrapped(req, res);
        closed = new Promise((r) => res.once('close', r)); // after the wrapper's own 'close' listener
      });
      expect(await (await fetch(url)).text()).toBe('ok');
      await closed;
      expect(spansOf()).toHaveLength(1);
      expect(messages).toEqual([]);
    } finally {
      diag.disable();
    }
  });

  it('a request aborted before the response ends its span as an error', async () => {
    tracing = startMemory();
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const url = await serve(wrapHttpHandler(() => entered())); // never responds
    const req = http.get(`${url}/hang`);
    req.on('error', () => undefined);
    await inHandler;
    req.destroy();
    // Generous bound: the server sees the socket close within milliseconds on an idle machine.
    for (let i = 0; i < 2000 && spansOf().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(spansOf()).toHaveLength(1);
    expect(spansOf()[0]).toMatchObject({
      status: { code: 'ERROR' },
      attributes: { 'error.type': 'aborted', 'url.path': '/hang' },
    });
  }, 30_000);
});
