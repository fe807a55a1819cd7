// PostgreSQL's CancelRequest, sent as libpq's PQcancel does: on a separate socket, write the
// 16-byte request, then wait for the server (or PgBouncer) to close that socket, which says the
// request was processed; bounded by a deadline. Ending our side first makes PgBouncer drop the
// request ("client unexpected eof") and the query keeps its server connection busy.
import net from 'node:net';

const CANCEL_REQUEST_CODE = 80877102;

export interface CancelTarget {
  host: string;
  port: number;
  processID: number;
  secretKey: number;
}

/**
 * Sends the cancel; resolves true when the server closed the socket (acknowledged), false on an
 * error or at `timeoutMs`. Never rejects; the socket is in `open` until it is closed.
 */
export function sendCancel(target: CancelTarget, timeoutMs: number, open: Set<net.Socket>): Promise<boolean> {
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  message.writeInt32BE(target.processID, 8);
  message.writeInt32BE(target.secretKey, 12);
  return new Promise<boolean>((resolve) => {
    const socket = target.host.startsWith('/')
      ? net.connect(`${target.host}/.s.PGSQL.${target.port}`)
      : net.connect(target.port, target.host);
    let acknowledged = false;
    open.add(socket);
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('error', () => undefined); // best effort: the caller has its answer already
    socket.on('connect', () => socket.write(message));
    socket.on('end', () => {
      acknowledged = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      open.delete(socket);
      resolve(acknowledged);
    });
  });
}
