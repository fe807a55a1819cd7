// The node:http server and its connections: timeouts that actually bite, a connection cap, and
// in-flight request accounting for the drain. Node checks headersTimeout/requestTimeout only every
// connectionsCheckingInterval (30 s by default), and never closes a connection that sends
// nothing; both are handled here so a slow or silent client cannot hold sockets (and fds) for long.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ResolvedConfig } from './config';
import type { Instruments } from './instrumentation';

type Limits = Pick<
  ResolvedConfig,
  'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'idleTimeoutMs' | 'maxConnections'
>;

/** How often Node sweeps for expired header/request deadlines: a fraction of the shortest one. */
export function checkingIntervalMs(limits: Pick<Limits, 'headersTimeoutMs' | 'requestTimeoutMs'>): number {
  return Math.max(50, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10)));
}

export class Connections {
  readonly server: http.Server;
  private inFlight = 0;
  private drainWaiter: (() => void) | undefined;
  private draining = false;
  /** Connections that have not started a request yet, with their idle-timeout counter. */
  private readonly idle = new WeakMap<Socket, () => void>();

  constructor(
    limits: Limits,
    private readonly instruments: Instruments,
    onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  ) {
    // Node requires requestTimeout >= headersTimeout.
    const requestTimeout = Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs);
    this.server = http.createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: checkingIntervalMs(limits),
      },
      (req, res) => this.onRequest(req, res, onRequest),
    );
    this.server.maxConnections = limits.maxConnections;
    this.server.on('drop', () => this.instruments.connectionDropped());
    this.server.on('connection', (socket: Socket) => this.onConnection(socket, limits.idleTimeoutMs));
  }

  /** Requests being answered now. */
  get active(): number {
    return this.inFlight;
  }

  /**
   * A connection must start its first request within idleTimeoutMs; once a request arrives the
   * header/request timeouts and then keepAliveTimeout govern it (Node's own socket timer). No
   * 'data' listener is added: that would take the socket off Node's native parser fast path.
   */
  private onConnection(socket: Socket, idleTimeoutMs: number): void {
    // Node's own 'timeout' listener destroys a socket with no request on it; this one only counts.
    const onTimeout = () => this.instruments.connectionIdleClosed();
    socket.setTimeout(idleTimeoutMs);
    socket.once('timeout', onTimeout);
    this.idle.set(socket, onTimeout);
  }

  private onRequest(
    req: IncomingMessage,
    res: ServerResponse,
    handle: (req: IncomingMessage, res: ServerResponse) => void,
  ): void {
    const onTimeout = this.idle.get(req.socket);
    if (onTimeout) {
      // The idle bound is for connections that never send; a request may take as long as it needs.
      this.idle.delete(req.socket);
      req.socket.off('timeout', onTimeout);
      req.socket.setTimeout(0);
    }
    this.inFlight++;
    res.once('close', () => {
      this.inFlight--;
      if (this.draining) {
        // A keep-alive socket that just went idle must not hold the shutdown.
        this.server.closeIdleConnections();
        if (this.inFlight === 0) this.drainWaiter?.();
      }
    });
    if (this.draining) res.setHeader('Connection', 'close');
    handle(req, res);
  }

  /**
   * Stops accepting connections, waits up to `timeoutMs` for in-flight requests, then cuts every
   * connection left. Resolves with the number of requests that were still running.
   */
  async drain(timeoutMs: number): Promise<number> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.drainWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.drainWaiter = undefined;
    }
    const aborted = this.inFlight;
    this.server.closeAllConnections();
    await closed;
    return aborted;
  }

  /** Marks answers as the last on their connection (while a drain delay runs). */
  startDraining(): void {
    this.draining = true;
  }
}
