// Routes under /debug/ need `Authorization: Bearer <debugToken>`; without a configured token they
// are off (403). Tokens are compared as SHA-256 digests in constant time, so neither the length
// nor a matching prefix of the token shows in the answer's timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors';

export type DebugGuard = (req: IncomingMessage, path: string) => HttpError | undefined;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function isDebugPath(path: string): boolean {
  return path === '/debug' || path.startsWith('/debug/');
}

/** Returns the error to answer with, or undefined when the request may pass. */
export function createDebugGuard(token: string | undefined): DebugGuard {
  const expected = token === undefined ? undefined : sha256(token);
  return (req, path) => {
    if (!isDebugPath(path)) return undefined;
    if (expected === undefined)
      return new HttpError(403, 'debug endpoints are disabled: set the debugToken option or PERISCOPE_DEBUG_TOKEN');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (m !== null && timingSafeEqual(sha256(m[1]), expected)) return undefined;
    return new HttpError(401, 'a valid bearer token is required', 'ERR_HEALTH_HTTP', {
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
  };
}
