// The status page's HTTP side: opt-in, headers, the JSON it reads, access and query errors.
import type { IncomingMessage } from 'node:http';
import { startTracing, trace, type Tracing } from '@periscope/tracing';
import { HealthConfigError, HealthServer, HttpError, PAGE_CSP } from '../src';
import { createPageAccess, isLoopback } from '../src/page/access';
import { request } from './helpers';

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: ConstructorParameters<typeof HealthServer>[0]): Promise<string> {
  const s = new HealthServer({ port: 0, drainDelayMs: 0, env: {}, ...options });
  servers.push(s);
  return (await s.listen()).url;
}

function fakeReq(remoteAddress: string, authorization?: string): IncomingMessage {
  return { socket: { remoteAddress }, headers: authorization ? { authorization } : {} } as unknown as IncomingMessage;
}

function statusOf(fn: () => void): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof HttpError ? err.statusCode : -1;
  }
}

describe('status page routes', () => {
  let tracing: Tracing;
  let traceId: string;
  beforeAll(async () => {
    tracing = startTracing({ serviceName: 'page-routes', exporter: 'memory', env: {} });
    traceId = trace('POST /tasks', (s) => {
      s.setAttribute('db.password', 'hunter2');
      return s.spanContext().traceId;
    });
    trace('failing job', (s) => s.setStatus({ code: 2, message: 'boom' }));
    await tracing.forceFlush();
  });
  afterAll(() => tracing.close());

  it('is off by default: GET / is 404', async () => {
    const url = await start({});
    expect((await request(url, '/')).status).toBe(404);
    expect((await request(url, '/status/traces')).status).toBe(404);
  });

  it('turns on with PERISCOPE_HEALTH_PAGE and sends the page with a strict CSP and no inline script', async () => {
    const url = await start({ env: { PERISCOPE_HEALTH_PAGE: 'true' } });
    const page = await request(url, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(PAGE_CSP).toContain("default-src 'none'");
    expect(PAGE_CSP).toContain("frame-ancestors 'none'");
    expect(page.body).not.toMatch(/<script>|<script [^>]*>[^<]|\son[a-z]+=|style=/i);
    const js = await request(url, '/page/app.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|eval\(|new Function|document\.write/);
    expect((await request(url, '/page/app.css')).status).toBe(200);
  });

  it('lists traces newest first, filtered by name, status and duration, and redacts them', async () => {
    const url = await start({ page: true, traces: tracing.store });
    const all = JSON.parse((await request(url, '/status/traces')).body) as { traces: { rootName: string }[] };
    expect(all.traces.map((t) => t.rootName)).toEqual(['failing job', 'POST /tasks']);
    const byName = JSON.parse((await request(url, '/status/traces?name=post')).body) as typeof all;
    expect(byName.traces.map((t) => t.rootName)).toEqual(['POST /tasks']);
    const errors = JSON.parse((await request(url, '/status/traces?status=error')).body) as typeof all;
    expect(errors.traces.map((t) => t.rootName)).toEqual(['failing job']);
    const ok = JSON.parse((await request(url, '/status/traces?status=ok')).body) as typeof all;
    expect(ok.traces.map((t) => t.rootName)).toEqual(['POST /tasks']);
    const slow = JSON.parse((await request(url, '/status/traces?minMs=60000')).body) as typeof all;
    expect(slow.traces).toEqual([]);
    const one = await request(url, `/status/traces/${traceId}`);
    expect(one.status).toBe(200);
    expect(one.body).toContain('POST /tasks');
    expect(one.body).not.toContain('hunter2');
  });

  it('answers 400 naming the parameter, 404 for an unknown trace; an empty list without a trace source', async () => {
    const url = await start({ page: true, traces: tracing.store });
    const bad = await request(url, '/status/traces?status=weird');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('status');
    expect((await request(url, '/status/traces?minMs=-1')).status).toBe(400);
    expect((await request(url, '/status/traces?limit=x')).status).toBe(400);
    expect((await request(url, '/status/traces/nothex')).status).toBe(400);
    expect((await request(url, `/status/traces/${'0'.repeat(32)}`)).status).toBe(404);
    const none = await start({ page: true });
    expect(JSON.parse((await request(none, '/status/traces')).body)).toEqual({
      available: false,
      traces: [],
      maxLimit: 200,
    });
    expect((await request(none, `/status/traces/${traceId}`)).status).toBe(404);
    expect((await request(none, '/')).status).toBe(200);
  });

  it('with a debug token, the JSON needs the bearer token and the shell does not', async () => {
    const url = await start({ page: true, traces: tracing.store, debugToken: 's3cret' });
    expect((await request(url, '/')).status).toBe(200);
    const denied = await request(url, '/status/traces');
    expect(denied.status).toBe(401);
    expect(denied.headers['www-authenticate']).toBe('Bearer');
    expect((await request(url, '/status/traces', { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await request(url, '/status/traces', { headers: { Authorization: 'Bearer s3cret' } })).status).toBe(200);
  });

  it('without a token answers loopback clients only (page and JSON); with one, data needs it from anywhere', () => {
    const open = createPageAccess(undefined);
    expect(statusOf(() => open.data(fakeReq('127.0.0.1')))).toBeUndefined();
    expect(statusOf(() => open.data(fakeReq('::ffff:127.0.0.1')))).toBeUndefined();
    expect(statusOf(() => open.shell(fakeReq('::1')))).toBeUndefined();
    expect(statusOf(() => open.data(fakeReq('10.1.2.3')))).toBe(403);
    expect(statusOf(() => open.shell(fakeReq('192.168.1.9')))).toBe(403);
    const guarded = createPageAccess('tok');
    expect(statusOf(() => guarded.data(fakeReq('127.0.0.1')))).toBe(401);
    expect(statusOf(() => guarded.data(fakeReq('10.1.2.3', 'Bearer tok')))).toBeUndefined();
    expect(statusOf(() => guarded.shell(fakeReq('10.1.2.3')))).toBeUndefined();
    expect(isLoopback('127.10.0.1')).toBe(true);
    expect(isLoopback('::ffff:10.0.0.1')).toBe(false);
    expect(isLoopback('1270.0.0.1')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });

  it('refuses a traces option that is not a trace store, and an unknown page option', () => {
    expect(() => new HealthServer({ page: true, traces: {} as never, env: {} })).toThrow(HealthConfigError);
    expect(() => new HealthServer({ pages: true, env: {} } as never)).toThrow(/did you mean page/);
    expect(() => new HealthServer({ env: { PERISCOPE_HEALTH_PAGE: 'maybe' } })).toThrow(HealthConfigError);
  });
});
