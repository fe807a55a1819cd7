// Reading a JSON request body for app routes (e.g. POST /tasks) with a hard size limit.
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, HealthConfigError, InvalidBodyError, errorMessage } from './errors';

export interface ReadBodyOptions {
  /** Largest accepted body in bytes. Default 1 MiB. */
  limitBytes?: number;
}

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Reads and parses a JSON body. Rejects with InvalidBodyError (415) when the content type is not
 * JSON, BodyTooLargeError (413) as soon as the body passes `limitBytes` (checked against
 * Content-Length first, so a big upload is refused before it is read), and InvalidBodyError
 * (400) for malformed JSON. Thrown from a route handler, these become the matching HTTP answer.
 */
export async function readJsonBody(req: IncomingMessage, options: ReadBodyOptions = {}): Promise<unknown> {
  const limit = options.limitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  if (!Number.isInteger(limit) || limit < 0) throw new HealthConfigError('limitBytes', 'a non-negative integer', limit);
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    throw new InvalidBodyError(
      415,
      `expected Content-Type application/json, got ${type ? JSON.stringify(type) : 'none'}`,
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);

  const chunks: Buffer[] = [];
  let size = 0;
  // Keep the socket on early exit so the 413 answer can still be written.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidBodyError(400, `request body is not valid JSON: ${errorMessage(err)}`);
  }
}
