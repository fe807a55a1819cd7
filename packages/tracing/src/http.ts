// HTTP span attributes, names and status after the HTTP semantic conventions, shared by every
// SERVER span we start (wrapHttpHandler, the health framework integrations) and the CLIENT spans
// of tracedFetch. Request data is hostile input: header values are bounded, URLs redacted.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactUrl } from '@periscope/core';
import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  HTTP_REQUEST_METHOD_VALUE_OTHER,
} from '@opentelemetry/semantic-conventions';
import { ATTR_URL_TEMPLATE } from './semconv';

const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'QUERY',
]);
/** Longest header value (Host, User-Agent, X-Forwarded-*) put on a span. */
const MAX_HEADER = 512;
/** error.type of a request whose connection closed before the response was complete. */
export const ABORTED_ERROR_TYPE = 'aborted';

/** `http.request.method`: the method when the conventions know it, else `_OTHER`. */
export function httpMethod(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : HTTP_REQUEST_METHOD_VALUE_OTHER;
}

/** `{method} {target}`, `{method}` without a low-cardinality target; `HTTP` stands for an unknown method. */
export function httpSpanName(method: string, target?: string): string {
  const m = method === HTTP_REQUEST_METHOD_VALUE_OTHER ? 'HTTP' : method;
  return target ? `${m} ${target}` : m;
}

/** The method attributes: `http.request.method`, and the original when it became `_OTHER`. */
function methodAttributes(a: Attributes, original: string | undefined): string {
  const method = httpMethod(original);
  a[ATTR_HTTP_REQUEST_METHOD] = method;
  if (method === HTTP_REQUEST_METHOD_VALUE_OTHER && original)
    a[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = original.slice(0, MAX_HEADER);
  return method;
}

export interface HttpServerSpanOptions {
  /**
   * Believe the proxy headers (Forwarded, X-Forwarded-For/-Host/-Proto) for client.address,
   * server.* and url.scheme. Only behind a proxy that sets them: a client can send any. Default false.
   */
  trustProxy?: boolean;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s && s.length <= MAX_HEADER ? s : undefined;
}

/** The first `key=value` of a Forwarded header (RFC 7239), unquoted. */
function forwarded(req: IncomingMessage, key: string): string | undefined {
  const first = header(req, 'forwarded')?.split(',')[0];
  const m = first ? new RegExp(`(?:^|;)\\s*${key}="?([^";]*)"?`, 'i').exec(first) : null;
  return m?.[1] || undefined;
}

/** host and port of a Host-style value (`example.com:8080`, `[::1]:80`); undefined when malformed. */
export function parseHost(value: string | undefined): { address: string; port?: number } | undefined {
  if (!value) return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._~%-]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  const address = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  const port = m[2] === undefined ? undefined : Number(m[2]);
  return { address, port: port !== undefined && port > 0 && port < 65536 ? port : undefined };
}

/** The address of a proxy's `for` value: `[v6]:port` and `v4:port` lose the port, a bare IPv6 stays. */
function stripPort(value: string | undefined): string | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (v.startsWith('[')) return v.slice(1, v.indexOf(']') > 0 ? v.indexOf(']') : undefined);
  const colon = v.indexOf(':');
  return colon > 0 && colon === v.lastIndexOf(':') ? v.slice(0, colon) : v;
}

const defaultPort = (scheme: string) => (scheme === 'https' ? 443 : 80);

/** The path and redacted query of a request target; a secret in the query never reaches the span. */
function splitTarget(target: string): { path: string; query?: string } {
  const q = target.indexOf('?');
  if (q === -1) return { path: target };
  const origin = 'http://h';
  // The one URL redactor (secret query values become REDACTED), on a dummy origin.
  const redacted = redactUrl(`${origin}/?${target.slice(q + 1)}`, { form: 'semconv' });
  const at = redacted.indexOf('?');
  return { path: target.slice(0, q), query: at === -1 ? '' : redacted.slice(at + 1) };
}

/**
 * The start attributes of a SERVER span for `req` (those a sampler may look at included) and its
 * name: `{method} {route}`, or `{method}` when no route is known (never the raw path).
 */
export function httpServerSpanStart(
  req: IncomingMessage,
  route?: string,
  options: HttpServerSpanOptions = {},
): { name: string; attributes: Attributes } {
  const a: Attributes = {};
  const method = methodAttributes(a, req.method);
  const trust = options.trustProxy === true;
  const proto = trust ? (forwarded(req, 'proto') ?? header(req, 'x-forwarded-proto')?.split(',')[0].trim()) : undefined;
  const encrypted = 'encrypted' in req.socket && req.socket.encrypted === true;
  const scheme = proto === 'https' || proto === 'http' ? proto : encrypted ? 'https' : 'http';
  a[ATTR_URL_SCHEME] = scheme;
  const { path, query } = splitTarget(req.url ?? '/');
  a[ATTR_URL_PATH] = path;
  if (query !== undefined) a[ATTR_URL_QUERY] = query;
  if (route) a[ATTR_HTTP_ROUTE] = route;
  const host = parseHost(
    (trust ? (forwarded(req, 'host') ?? header(req, 'x-forwarded-host')?.split(',')[0]) : undefined) ??
      header(req, 'host'),
  );
  if (host) {
    a[ATTR_SERVER_ADDRESS] = host.address;
    a[ATTR_SERVER_PORT] = host.port ?? defaultPort(scheme);
  } else if (req.socket.localAddress) {
    a[ATTR_SERVER_ADDRESS] = req.socket.localAddress;
    if (req.socket.localPort) a[ATTR_SERVER_PORT] = req.socket.localPort;
  }
  const peer = req.socket.remoteAddress;
  const client = trust ? stripPort(forwarded(req, 'for') ?? header(req, 'x-forwarded-for')?.split(',')[0]) : undefined;
  if (client || peer) a[ATTR_CLIENT_ADDRESS] = client || peer;
  if (peer) {
    a[ATTR_NETWORK_PEER_ADDRESS] = peer;
    if (req.socket.remotePort) a[ATTR_NETWORK_PEER_PORT] = req.socket.remotePort;
  }
  // Node reports HTTP/2 as '2.0'; the conventions write '2'.
  if (req.httpVersion) a[ATTR_NETWORK_PROTOCOL_VERSION] = req.httpVersion === '2.0' ? '2' : req.httpVersion;
  const agent = header(req, 'user-agent');
  if (agent) a[ATTR_USER_AGENT_ORIGINAL] = agent;
  return { name: httpSpanName(method, route), attributes: a };
}

/**
 * Records how a SERVER span's request ended (the span is not ended here): the status code when
 * one was sent; ERROR with error.type the code on 5xx (4xx is the client's error, not the
 * server's); ERROR with error.type `aborted` when the connection closed before the response was
 * complete. `failed`: an error was already recorded (its type stays).
 */
export function httpServerSpanEnd(span: Span, res: ServerResponse, failed = false): void {
  const code = res.statusCode;
  if (res.headersSent) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, code);
  if (failed) return;
  if (res.headersSent && code >= 500) {
    span.setAttribute(ATTR_ERROR_TYPE, String(code));
    span.setStatus({ code: SpanStatusCode.ERROR });
  } else if (!res.writableFinished) {
    span.setAttribute(ATTR_ERROR_TYPE, ABORTED_ERROR_TYPE);
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted before the response finished' });
  }
}

/** The start attributes of a CLIENT span for a request to `url` (redacted in url.full). */
export function httpClientSpanStart(
  method: string | undefined,
  url: string,
  template?: string,
): { name: string; attributes: Attributes } {
  const a: Attributes = {};
  const m = methodAttributes(a, method);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // A relative or malformed URL: fetch will reject it; the span still names what was asked.
  }
  a[ATTR_URL_FULL] = redactUrl(url, { form: 'semconv' });
  if (parsed) {
    const scheme = parsed.protocol.slice(0, -1);
    a[ATTR_URL_SCHEME] = scheme;
    a[ATTR_SERVER_ADDRESS] = parsed.hostname.replace(/^\[|\]$/g, '');
    a[ATTR_SERVER_PORT] = parsed.port ? Number(parsed.port) : defaultPort(scheme);
  }
  if (template) a[ATTR_URL_TEMPLATE] = template;
  return { name: httpSpanName(m, template), attributes: a };
}

/** A response on a CLIENT span: its status code; ERROR with error.type the code from 400 on. */
export function httpClientSpanResponse(span: Span, status: number): void {
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 400) {
    span.setAttribute(ATTR_ERROR_TYPE, String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
}
