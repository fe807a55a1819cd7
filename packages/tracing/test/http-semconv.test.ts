// The HTTP conventions' attributes on SERVER spans from hostile or unusual requests (raw node:http
// requests, so any Host and header can be sent), and the Host parser.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { wrapHttpHandler, type SpanRecord, type Tracing } from '../src';
import { parseHost } from '../src/http';
import { startMemory } from './helpers';

describe('HTTP server span attributes from what the client sent', () => {
  let tracing: Tracing;
  let server: http.Server;
  let port: number;
  const options = { trustProxy: false };

  beforeAll(async () => {
    tracing = startMemory();
    server = http.createServer(
      wrapHttpHandler(
        (req, res) => {
          res.writeHead(req.url?.startsWith('/bad') ? 400 : 200).end('ok');
        },
        {
          get trustProxy() {
            return options.trustProxy;
          },
        },
      ),
    );
    server.keepAliveTimeout = 50;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await tracing.close();
  });

  async function send(path: string, headers: Record<string, string>): Promise<SpanRecord> {
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const span = tracing
        .store!.toJSON()
        .traces.flatMap((t) => t.spans)
        .find((s) => s.attributes['url.path'] === path.split('?')[0]);
      if (span || Date.now() > deadline) return span!;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('a malformed or oversized Host falls back to the socket; a long user agent is left out', async () => {
    const span = await send('/odd-host', { host: 'bad host\\x', 'user-agent': 'x'.repeat(5000) });
    expect(span.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'server.port': port });
    expect(span.attributes['user_agent.original']).toBeUndefined();
    const long = await send('/long-host', { host: `${'a'.repeat(600)}.example` });
    expect(long.attributes['server.address']).toBe('127.0.0.1');
  });

  it('the Host header names the server; its port defaults to the scheme’s', async () => {
    const span = await send('/named', { host: 'api.example.com' });
    expect(span.attributes).toMatchObject({ 'server.address': 'api.example.com', 'server.port': 80 });
  });

  it('a 400 is no server error', async () => {
    const span = await send('/bad', {});
    expect(span.status.code).toBe('UNSET');
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.attributes['http.response.status_code']).toBe(400);
  });

  it('Forwarded (RFC 7239) is read only when trusted', async () => {
    const forwarded = { forwarded: 'for="[2001:db8::7]:4711";proto=https;host=shop.example, for=10.0.0.1' };
    const untrusted = await send('/fwd-untrusted', forwarded);
    expect(untrusted.attributes['client.address']).toBe('127.0.0.1');
    options.trustProxy = true;
    try {
      const trusted = await send('/fwd-trusted', forwarded);
      expect(trusted.attributes).toMatchObject({
        'url.scheme': 'https',
        'server.address': 'shop.example',
        'server.port': 443,
      });
      expect(trusted.attributes['client.address']).toBe('2001:db8::7');
    } finally {
      options.trustProxy = false;
    }
  });
});

test('parseHost', () => {
  expect(parseHost('example.com:8080')).toEqual({ address: 'example.com', port: 8080 });
  expect(parseHost('[::1]:80')).toEqual({ address: '::1', port: 80 });
  expect(parseHost('[::1]')).toEqual({ address: '::1', port: undefined });
  expect(parseHost('example.com:99999')).toEqual({ address: 'example.com', port: undefined });
  for (const bad of ['', 'a b', 'evil.com/path', 'x@y', 'host:port', undefined]) expect(parseHost(bad)).toBeUndefined();
});
