// Who may read the status page and its JSON: the rule of /debug/* with a loopback default. With a
// debug token configured, the JSON needs `Authorization: Bearer <token>` (from any address); without
// one, only loopback clients are answered. The page shell (HTML, script, style) holds no data: it is
// served to loopback clients, and to anyone once a token is configured (its script then asks for
// the token and sends it with each JSON request).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors';

export interface PageAccess {
  /** Throws the HttpError to answer with, or returns when the data request may pass. */
  data(req: IncomingMessage): void;
  /** Same for the page shell. */
  shell(req: IncomingMessage): void;
}

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

const LOOPBACK_ONLY =
  'the status page answers loopback clients only: set the debugToken option or PERISCOPE_DEBUG_TOKEN to allow others';

export function createPageAccess(token: string | undefined): PageAccess {
  const expected = token === undefined ? undefined : sha256(token);
  const loopbackOnly = (req: IncomingMessage): void => {
    if (!isLoopback(req.socket.remoteAddress)) throw new HttpError(403, LOOPBACK_ONLY);
  };
  return {
    data(req) {
      if (expected === undefined) return loopbackOnly(req);
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (m !== null && timingSafeEqual(sha256(m[1]), expected)) return;
      throw new HttpError(401, 'a valid bearer token is required', 'ERR_HEALTH_HTTP', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    },
    shell(req) {
      if (expected === undefined) loopbackOnly(req);
    },
  };
}
