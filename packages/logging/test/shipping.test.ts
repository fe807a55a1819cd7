import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TcpFaultProxy } from '@periscope-tools/testing';
import { createMetrics } from '@periscope/metrics';
import {
  createHttpTransport,
  createLogger,
  toElasticsearchBulk,
  toLokiPush,
  LoggingConfigError,
  REDACTED,
  type HttpLogTransport,
  type LogRecord,
  type PeriscopeLogger,
} from '@periscope/logging';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
function rec(i: number, partial: Partial<LogRecord> = {}): LogRecord {
  return { time: T0 + i, level: 'info', service: 'agent', message: `m${i}`, attributes: { i }, ...partial };
}

interface Received {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
/** A local receiver whose answers the test scripts: a status, or a function of the request. */
async function receiver() {
  const received: Received[] = [];
  const script: (number | ((r: Received) => [number, string]))[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      const r = { url: req.url ?? '', headers: req.headers, body };
      const step = script.shift() ?? 200;
      const [status, text] =
        typeof step === 'function' ? step(r) : [step, step === 200 ? '{"errors":false,"items":[]}' : 'unavailable'];
      if (status < 300) received.push(r);
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    script,
    port,
    url: `http://127.0.0.1:${port}`,
    docs: () =>
      received.flatMap((r) =>
        r.body
          .trim()
          .split('\n')
          .filter((_, i) => i % 2 === 1)
          .map((l) => JSON.parse(l)),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
function track<T extends HttpLogTransport | PeriscopeLogger>(x: T): T {
  cleanup.push(() => x.shutdown());
  return x;
}
async function until(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('payload builders', () => {
  it('toElasticsearchBulk writes NDJSON: a create action and an ECS document per record', () => {
    const body = toElasticsearchBulk(
      [
        rec(1, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }),
        rec(2, { level: 'error', error: { type: 'Error', message: 'x' } }),
      ],
      'logs-agent-default',
    );
    const lines = body.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('');
    expect(JSON.parse(lines[0])).toEqual({ create: { _index: 'logs-agent-default' } });
    expect(JSON.parse(lines[1])).toMatchObject({
      '@timestamp': new Date(T0 + 1).toISOString(),
      'log.level': 'info',
      message: 'm1',
      'trace.id': 'a'.repeat(32),
      'service.name': 'agent',
      i: 1,
    });
    expect(JSON.parse(lines[3])).toMatchObject({ 'log.level': 'error', 'error.type': 'Error', 'error.message': 'x' });
    expect(() => toElasticsearchBulk([], '')).toThrow(LoggingConfigError);
  });

  it('toLokiPush groups records into streams by service and level, with nanosecond timestamps', () => {
    const push = toLokiPush([rec(1), rec(2, { level: 'warn' }), rec(3)], { env: 'test' });
    expect(push.streams).toHaveLength(2);
    expect(push.streams[0].stream).toEqual({ env: 'test', service_name: 'agent', level: 'info' });
    expect(push.streams[0].values.map((v) => v[0])).toEqual([`${T0 + 1}000000`, `${T0 + 3}000000`]);
    expect(JSON.parse(push.streams[1].values[0][1])).toMatchObject({ severity_text: 'WARN', body: 'm2' });
  });
});

describe('HTTP transport', () => {
  it('ships batches by size and by time to Elasticsearch _bulk, with credentials moved to a header', async () => {
    const rx = await receiver();
    cleanup.push(rx.close);
    const t = track(
      createHttpTransport({
        target: 'elasticsearch',
        url: `http://elastic:s3cret@127.0.0.1:${rx.port}`,
        index: 'logs-test',
        batchSize: 3,
        flushIntervalMs: 50,
      }),
    );
    for (let i = 0; i < 7; i++) t.enqueue(rec(i));
    await until(() => t.stats().sent === 7);
    expect(rx.received.map((r) => r.body.split('\n').length - 1)).toEqual([6, 6, 2]);
    expect(rx.received[0].url).toBe('/_bulk');
    expect(rx.received[0].headers['content-type']).toBe('application/x-ndjson');
    expect(rx.received[0].headers.authorization).toBe(`Basic ${Buffer.from('elastic:s3cret').toString('base64')}`);
    expect(rx.docs().map((d) => d.message)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(t.stats()).toMatchObject({ sent: 7, requests: 3, retries: 0, dropped: { total: 0 } });
  });

  it('retries with backoff while the receiver fails, then delivers everything once it recovers', async () => {
    const rx = await receiver();
    cleanup.push(rx.close);
    rx.script.push(503, 503, 500);
    const metrics = createMetrics();
    const t = track(
      createHttpTransport({
        target: 'elasticsearch',
        url: rx.url,
        batchSize: 5,
        flushIntervalMs: 20,
        retryBaseMs: 10,
        metrics,
      }),
    );
    for (let i = 0; i < 5; i++) t.enqueue(rec(i));
    await until(() => t.stats().sent === 5);
    expect(t.stats()).toMatchObject({ requests: 4, retries: 3, dropped: { total: 0 }, lastError: undefined });
    expect(rx.docs()).toHaveLength(5);
    const text = (await metrics.expose()).body;
    expect(text).toMatch(/periscope_logging_ship_retries_total\{target="elasticsearch"\} 3/);
    expect(text).toMatch(/periscope_logging_shipped_total\{target="elasticsearch"\} 5/);
  });

  it('never blocks the application while the receiver is down: bounded buffer, counted loss, recovery', async () => {
    const rx = await receiver();
    cleanup.push(rx.close);
    const proxy = await TcpFaultProxy.start({ target: { host: '127.0.0.1', port: rx.port } });
    cleanup.push(() => proxy.close());
    proxy.refuse();
    const t = createHttpTransport({
      target: 'loki',
      url: proxy.urlFor(rx.url),
      batchSize: 5,
      maxBufferSize: 10,
      flushIntervalMs: 20,
      retryBaseMs: 20,
      retryMaxMs: 40,
      maxRetries: 2,
      timeoutMs: 200,
    });
    const logger = track(createLogger({ service: 'agent', format: 'json', transports: [t] }));
    for (let i = 0; i < 40; i++) logger.info(`event ${i}`, { api_key: 'k' });
    // log() returned 40 times without waiting for the network: nothing was delivered yet, and every
    // record is accounted for (buffered, in flight, or dropped from the bounded buffer).
    const now = t.stats();
    expect(now.sent).toBe(0);
    expect(now.buffered).toBeLessThanOrEqual(10);
    expect(now.buffered + now.inFlight + now.dropped.total).toBe(40);
    await until(
      () =>
        t.stats().dropped.byReason.retries_exhausted !== undefined &&
        t.stats().dropped.byReason.buffer_full !== undefined,
    );
    expect(t.stats().buffered).toBeLessThanOrEqual(10);
    expect(t.stats().lastError).toMatch(/cannot ship logs to http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/push/);

    proxy.restore();
    for (let i = 40; i < 43; i++) logger.info(`event ${i}`);
    await until(() => t.stats().buffered === 0 && t.stats().inFlight === 0 && t.stats().sent > 0);
    const s = t.stats();
    // every record is either delivered or counted as dropped: loss is bounded and visible
    expect(s.sent + s.dropped.total).toBe(43);
    const lines = rx.received.flatMap((r) =>
      (JSON.parse(r.body) as ReturnType<typeof toLokiPush>).streams.flatMap((st) =>
        st.values.map((v) => JSON.parse(v[1])),
      ),
    );
    expect(lines.map((l) => l.body)).toContain('event 42');
    expect(lines[0].attributes.api_key).toBe(REDACTED);
    expect(rx.received[0].url).toBe('/loki/api/v1/push');
  });

  it('drops batches the receiver rejects (4xx) and retries only the items Elasticsearch throttled', async () => {
    const rx = await receiver();
    cleanup.push(rx.close);
    rx.script.push(400, () => [
      200,
      JSON.stringify({
        errors: true,
        items: [{ create: { status: 201 } }, { create: { status: 429 } }, { create: { status: 400 } }],
      }),
    ]);
    const t = track(
      createHttpTransport({ target: 'elasticsearch', url: rx.url, batchSize: 3, flushIntervalMs: 20, retryBaseMs: 10 }),
    );
    for (let i = 0; i < 6; i++) t.enqueue(rec(i));
    await until(() => t.stats().buffered === 0 && t.stats().inFlight === 0 && t.stats().requests >= 3);
    expect(t.stats()).toMatchObject({ sent: 2, dropped: { total: 4, byReason: { rejected: 4 } } });
    // the throttled item (m4) was sent again on its own
    expect(rx.docs().map((d) => d.message)).toEqual(['m3', 'm4', 'm5', 'm4']);
  });

  it('flushes on logger shutdown, which is idempotent', async () => {
    const rx = await receiver();
    cleanup.push(rx.close);
    const t = createHttpTransport({ target: 'elasticsearch', url: rx.url, batchSize: 100, flushIntervalMs: 60_000 });
    const logger = createLogger({ service: 'agent', format: 'json', transports: [t] });
    logger.warn('about to exit');
    const a = logger.shutdown();
    expect(logger.shutdown()).toBe(a);
    await a;
    expect(rx.docs().map((d) => d.message)).toEqual(['about to exit']);
    await t.shutdown();
  });

  it('bounds shutdown when the receiver black-holes, counting what was not sent', async () => {
    const rx = await receiver();
    cleanup.push(rx.close);
    const proxy = await TcpFaultProxy.start({ target: { host: '127.0.0.1', port: rx.port } });
    cleanup.push(() => proxy.close());
    proxy.blackhole();
    const t = createHttpTransport({
      target: 'elasticsearch',
      url: proxy.urlFor(rx.url),
      batchSize: 2,
      flushIntervalMs: 60_000,
      timeoutMs: 5000,
      closeTimeoutMs: 150,
    });
    for (let i = 0; i < 5; i++) t.enqueue(rec(i));
    const started = Date.now();
    await t.shutdown();
    // 150 ms bound; generous slack for a loaded machine, far below the 5 s request timeout.
    expect(Date.now() - started).toBeLessThan(4000);
    expect(t.stats()).toMatchObject({ sent: 0, dropped: { total: 5, byReason: { shutdown: 5 } } });
    t.enqueue(rec(9));
    expect(t.stats().dropped.total).toBe(6);
  });

  it('rejects invalid configuration, without echoing secrets', () => {
    expect(() => createHttpTransport({ target: 'splunk' as never, url: 'http://x' })).toThrow(
      /^invalid target: expected one of elasticsearch, loki, got "splunk"/,
    );
    expect(() => createHttpTransport({ target: 'loki', url: 'ftp://u:topsecret@x' })).toThrow(LoggingConfigError);
    expect(() => createHttpTransport({ target: 'loki', url: 'ftp://u:topsecret@x' })).not.toThrow(/topsecret/);
    expect(() => createHttpTransport({ target: 'loki', url: 'http://x', batchSize: 0 })).toThrow(/^invalid batchSize/);
  });

  it('keeps credentials and query-string tokens out of its errors', async () => {
    const proxy = await TcpFaultProxy.start({ target: { host: '127.0.0.1', port: 9 } });
    cleanup.push(() => proxy.close());
    proxy.refuse();
    const t = track(
      createHttpTransport({
        target: 'elasticsearch',
        url: `http://u:pw-in-url@127.0.0.1:${proxy.port}/?api_key=qs-secret`,
        maxRetries: 0,
        flushIntervalMs: 10,
      }),
    );
    t.enqueue(rec(1));
    await until(() => t.stats().dropped.total === 1);
    expect(t.stats().lastError).toMatch(/cannot ship logs to http:\/\/127\.0\.0\.1:\d+\/_bulk\?api_key=\[REDACTED\]/);
    expect(t.stats().lastError).not.toMatch(/pw-in-url|qs-secret/);
  });
});
