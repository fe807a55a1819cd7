// Writing answers: every response of the server (and of app routes that use these helpers) is
// uncacheable, says its type, and is never sniffed. App routes answer JSON with `sendJson` and
// errors by throwing an `HttpError`.
import type { ServerResponse } from 'node:http';

export const TEXT = 'text/plain; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';
export const HEALTH_JSON = 'application/health+json';

/** JSON text of a response body; BigInts (counters from drivers) become decimal strings instead of throwing. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Writes a complete answer with `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`. */
export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers?: Readonly<Record<string, string>>,
): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

/** Answers `value` as JSON (BigInts as strings) with the server's usual headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers?: Readonly<Record<string, string>>,
): void {
  sendBody(res, status, JSON_TYPE, toJson(value), headers);
}

/** Answers plain UTF-8 text with the server's usual headers. */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers?: Readonly<Record<string, string>>,
): void {
  sendBody(res, status, TEXT, text, headers);
}
