// Connection limits with real sockets: a silent connection, one trickling its headers, an idle
// keep-alive connection and one over maxConnections are all closed by the server in bounded time
// (bounds are generous: the point is seconds instead of Node's 30-150 s, not exact timing).
import net from 'node:net';
import { createMetrics } from '@periscope/metrics';
import { createHealthServer, type HealthServer, type HealthServerOptions } from '@periscope/health';
import { outcomeWithin } from '@periscope-tools/testing';
import { request, sleep } from './helpers';

interface Probe {
  socket: net.Socket;
  /** ms from connect until the server closed the socket. */
  closed: Promise<number>;
  received(): string;
}

function connect(port: number): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let data = '';
    const socket = net.connect(port, '127.0.0.1');
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
    });
    socket.on('error', () => undefined); // a write after the server closed it: expected here
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - started)));
    socket.once('connect', () => resolve({ socket, closed, received: () => data }));
    socket.once('error', reject);
  });
}

describe('connection limits', () => {
  let server: HealthServer;
  let port: number;
  const metrics = createMetrics();
  const start = async (options: HealthServerOptions) => {
    server = createHealthServer({ port: 0, drainDelayMs: 0, metrics, ...options });
    server.route('GET', '/slow', async (_req, res) => {
      await sleep(900);
      res.end('done');
    });
    port = (await server.listen()).port;
    server.markReady();
  };
  afterEach(() => server?.close());

  it('closes a connection that sends nothing within idleTimeoutMs, and counts it', async () => {
    await start({ idleTimeoutMs: 400 });
    const silent = await connect(port);
    const ms = await silent.closed;
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(ms).toBeLessThan(5000);
    const text = (await metrics.expose()).body;
    expect(text).toMatch(/periscope_health_connections_closed_total\{reason="idle"\} [1-9]/);
  });

  it('closes a connection trickling its headers near headersTimeoutMs, not at Node’s 30 s sweep', async () => {
    await start({ headersTimeoutMs: 1000, idleTimeoutMs: 60_000 });
    const trickle = await connect(port);
    trickle.socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n');
    const timer = setInterval(() => trickle.socket.write('X-Slow: 1\r\n'), 100);
    const ms = await trickle.closed;
    clearInterval(timer);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(6000);
    expect(trickle.received()).not.toContain('200 OK');
  });

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    await start({ keepAliveTimeoutMs: 300, idleTimeoutMs: 60_000 });
    const ka = await connect(port);
    ka.socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n');
    const ms = await ka.closed;
    expect(ka.received()).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(ms).toBeLessThan(6000);
  });

  it('does not cut a request whose handler takes longer than idleTimeoutMs', async () => {
    await start({ idleTimeoutMs: 300 });
    const r = await request(`http://127.0.0.1:${port}`, '/slow');
    expect(r).toMatchObject({ status: 200, body: 'done' });
  });

  it('closes connections over maxConnections at once and serves again when one goes', async () => {
    await start({ maxConnections: 3, idleTimeoutMs: 60_000 });
    const held = await Promise.all([connect(port), connect(port), connect(port)]);
    await sleep(50);
    const extra = await connect(port);
    expect(
      await outcomeWithin(
        extra.closed.then(() => 'closed'),
        3000,
        'open',
      ),
    ).toBe('closed');
    expect((await metrics.expose()).body).toMatch(
      /periscope_health_connections_closed_total\{reason="max_connections"\} [1-9]/,
    );
    held[0].socket.destroy();
    await held[0].closed;
    await sleep(50);
    expect((await request(`http://127.0.0.1:${port}`, '/livez')).status).toBe(200);
    for (const h of held) h.socket.destroy();
  });
});
