// A real TCP proxy for fault injection in tests: it sits between a client and a server on
// loopback and can pass traffic, delay it, cut every connection, black-hole traffic (accept and
// never answer), or refuse new connections — the faults that networks and restarts really cause.
import net from 'node:net';

export type ProxyMode = 'pass' | 'blackhole' | 'refuse';

export interface TcpFaultProxyOptions {
  /** Where traffic goes, e.g. { host: '127.0.0.1', port: 5432 }. */
  target: { host: string; port: number };
  /** Port to listen on (default: a free one). */
  port?: number;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
}

export class TcpFaultProxy {
  private mode: ProxyMode = 'pass';
  private delayMs = 0;
  private connectDelayMs = 0;
  private readonly pairs = new Set<Pair>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Connections accepted since start (including refused and black-holed ones). */
  acceptedConnections = 0;
  private listenPort: number | undefined;

  private constructor(
    private readonly server: net.Server,
    readonly target: { host: string; port: number },
  ) {}

  static async start(options: TcpFaultProxyOptions): Promise<TcpFaultProxy> {
    const server = net.createServer();
    const proxy = new TcpFaultProxy(server, options.target);
    server.on('connection', (socket) => proxy.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    void proxy.port;
    return proxy;
  }

  /** The listening port (still readable after close, for assertions on messages). */
  get port(): number {
    this.listenPort ??= (this.server.address() as net.AddressInfo).port;
    return this.listenPort;
  }

  /** Rewrites a connection URL (postgres://…, redis://…) so it goes through this proxy. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  /** Open client connections right now. */
  get openConnections(): number {
    return this.pairs.size;
  }

  /** Delay every chunk, both ways, by `ms`. */
  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** Delay the upstream connect of each new connection by `ms` (a slow server handshake). */
  setConnectDelay(ms: number): void {
    this.connectDelayMs = ms;
  }

  /** Accept connections and swallow all traffic, new and existing: nothing answers. */
  blackhole(): void {
    this.mode = 'blackhole';
  }

  /** Reset new connections at once, as a stopped server does. */
  refuse(): void {
    this.mode = 'refuse';
  }

  /** Back to passing traffic (existing black-holed connections stay dead). */
  restore(): void {
    this.mode = 'pass';
    this.delayMs = 0;
    this.connectDelayMs = 0;
  }

  /** Destroy every open connection, both sides, as a network cut or server restart does. */
  cutAll(): void {
    for (const pair of this.pairs) {
      pair.client.resetAndDestroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private later(ms: number, fn: () => void): void {
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private accept(client: net.Socket): void {
    this.acceptedConnections++;
    client.on('error', () => undefined);
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: null };
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('close', drop);
    if (this.mode === 'blackhole') {
      client.on('data', () => undefined);
      return;
    }
    const pending: Buffer[] = [];
    client.on('data', (chunk: Buffer) => {
      if (this.mode === 'blackhole') return;
      if (!pair.upstream || pair.upstream.connecting) pending.push(chunk);
      else this.forward(chunk, pair.upstream);
    });
    this.later(this.connectDelayMs, () => {
      if (client.destroyed) return;
      const upstream = net.connect(this.target);
      pair.upstream = upstream;
      upstream.on('error', () => undefined);
      upstream.on('close', drop);
      upstream.on('connect', () => {
        for (const chunk of pending.splice(0)) this.forward(chunk, upstream);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (this.mode === 'blackhole') return;
        this.forward(chunk, client);
      });
    });
  }

  private forward(chunk: Buffer, to: net.Socket): void {
    this.later(this.delayMs, () => {
      if (!to.destroyed) to.write(chunk);
    });
  }
}
