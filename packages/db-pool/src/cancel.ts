// PostgreSQL's CancelRequest, sent on a separate short-lived socket: when a query is given up
// (client timeout, AbortSignal) the server stops working on it instead of running it to the end.
import net from 'node:net';

const CANCEL_REQUEST_CODE = 80877102;

export interface CancelTarget {
  host: string;
  port: number;
  processID: number;
  secretKey: number;
}

/** Sends the cancel and forgets it; the socket closes itself within `timeoutMs` at the latest. */
export function sendCancel(target: CancelTarget, timeoutMs: number, open: Set<net.Socket>): void {
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  message.writeInt32BE(target.processID, 8);
  message.writeInt32BE(target.secretKey, 12);
  const socket = target.host.startsWith('/')
    ? net.connect(`${target.host}/.s.PGSQL.${target.port}`)
    : net.connect(target.port, target.host);
  open.add(socket);
  socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.on('error', () => undefined); // best effort: the connection is discarded anyway
  socket.on('close', () => open.delete(socket));
  socket.on('connect', () => socket.end(message));
}
