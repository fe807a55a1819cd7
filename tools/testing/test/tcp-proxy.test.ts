import net from 'node:net';
import { TcpFaultProxy } from '../src';

// An echo server stands in for PostgreSQL/Redis: the proxy must pass, delay, cut and black-hole.
let echo: net.Server;
let echoPort: number;
let proxy: TcpFaultProxy;

beforeEach(async () => {
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as net.AddressInfo).port;
  proxy = await TcpFaultProxy.start({ target: { host: '127.0.0.1', port: echoPort } });
});
afterEach(async () => {
  await proxy.close();
  await new Promise<void>((r) => echo.close(() => r()));
});

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: proxy.port }, () => resolve(s));
    s.once('error', reject);
  });
}
function roundTrip(s: net.Socket, text: string, timeoutMs = 1000): Promise<string | 'timeout'> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      s.off('data', on);
      resolve('timeout');
    }, timeoutMs);
    const on = (d: Buffer) => {
      clearTimeout(t);
      s.off('data', on);
      resolve(d.toString());
    };
    s.on('data', on);
    s.write(text);
  });
}

test('passes traffic both ways', async () => {
  const s = await connect();
  expect(await roundTrip(s, 'hello')).toBe('hello');
  expect(proxy.openConnections).toBe(1);
  s.destroy();
});

test('delays traffic by the configured amount each way', async () => {
  const s = await connect();
  await roundTrip(s, 'warm');
  proxy.setDelay(100);
  const t0 = Date.now();
  expect(await roundTrip(s, 'slow')).toBe('slow');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  s.destroy();
});

test('cutAll resets open connections', async () => {
  const s = await connect();
  await roundTrip(s, 'x');
  const closed = new Promise((r) => s.once('close', r));
  s.on('error', () => undefined);
  proxy.cutAll();
  await closed;
  expect(proxy.openConnections).toBe(0);
});

test('blackhole accepts but never answers; restore passes new connections again', async () => {
  proxy.blackhole();
  const s = await connect();
  expect(await roundTrip(s, 'lost', 300)).toBe('timeout');
  s.destroy();
  proxy.restore();
  const s2 = await connect();
  expect(await roundTrip(s2, 'back')).toBe('back');
  s2.destroy();
});

test('refuse resets new connections', async () => {
  proxy.refuse();
  const s = net.connect({ host: '127.0.0.1', port: proxy.port });
  const outcome = await new Promise<string>((r) => {
    s.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error'));
    s.once('close', () => r('closed'));
  });
  expect(['ECONNRESET', 'closed']).toContain(outcome);
  s.destroy();
});

test('urlFor rewrites a connection URL to go through the proxy and keeps the rest', () => {
  expect(proxy.urlFor('postgres://u:p@db.example:5432/test?x=1')).toBe(
    `postgres://u:p@127.0.0.1:${proxy.port}/test?x=1`,
  );
});
