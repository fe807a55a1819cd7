// Another node:http server (an Express or Fastify app's) whose requests the health server's
// close() drains together with its own. Nothing is added per request (the app's hot path stays
// as it was): the drain stops accepting, closes keep-alive connections as soon as they are idle,
// and waits for the server's 'close' (every connection gone) up to the timeout.
import type http from 'node:http';

const IDLE_SWEEP_MS = 50;

export class ExternalServer {
  constructor(readonly server: http.Server) {}

  /** Stops accepting, waits up to `timeoutMs` for in-flight requests, cuts the rest; resolves with how many connections were cut. */
  async drain(timeoutMs: number): Promise<number> {
    const server = this.server;
    if (!server.listening) return 0;
    let done = false;
    const closed = new Promise<void>((resolve) =>
      server.close(() => {
        done = true;
        resolve();
      }),
    );
    // A connection that finishes its request goes idle: close it then, not at its keep-alive timeout.
    server.closeIdleConnections();
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearInterval(sweep);
    clearTimeout(timer);
    let aborted = 0;
    if (!done) {
      aborted = await new Promise<number>((resolve) => server.getConnections((_err, n) => resolve(n ?? 0)));
      server.closeAllConnections();
    }
    await closed;
    return aborted;
  }
}
