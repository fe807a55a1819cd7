// The one scrubber of URLs and connection strings (Redis, PostgreSQL, OTLP, Pushgateway, agent
// endpoints) for logs, spans, /status, banners and error messages. It never throws: a string that
// is not a URL is scrubbed as free text.
import { REDACTED, redactString } from './redact';

export type UrlForm =
  /** user kept, password and secret-looking query values replaced by [REDACTED] (default). */
  | 'masked'
  /** OpenTelemetry `url.full`: `REDACTED:REDACTED@` for credentials, secret query values `REDACTED`. */
  | 'semconv'
  /** scheme://host:port/path, no credentials, query or fragment. */
  | 'no-credentials'
  /** scheme://host:port only. */
  | 'origin';

export interface RedactUrlOptions {
  form?: UrlForm;
}

/** Query parameters whose values are credentials (presigned URLs, API keys in query strings). */
const SECRET_QUERY =
  /^(?:.*(?:pass(?:word|wd)?|secret|token|api[-_]?key|access[-_]?key|signature|credential|auth).*|sig|key|code|x-amz-security-token|x-goog-signature|awsaccesskeyid)$/i;

const MAX_URL_LENGTH = 8192;

export function redactUrl(url: string | URL, options: RedactUrlOptions = {}): string {
  const form = options.form ?? 'masked';
  const text = typeof url === 'string' ? url : url.href;
  if (text.length > MAX_URL_LENGTH) return redactString(text.slice(0, MAX_URL_LENGTH)) + '…';
  const parsed = parse(text);
  if (parsed === undefined) return redactString(text);
  const mask = form === 'semconv' ? 'REDACTED' : REDACTED;
  const { scheme, user, password, hostPart, rest } = parsed;
  if (form === 'origin') return `${scheme}//${hostPart}`;
  const [pathPart, query, fragment] = splitRest(rest);
  if (form === 'no-credentials') return `${scheme}//${hostPart}${pathPart}`;
  let auth = '';
  if (form === 'semconv') auth = user !== undefined || password !== undefined ? `${mask}:${mask}@` : '';
  else if (user !== undefined || password !== undefined)
    auth = `${user ?? ''}${password !== undefined ? `:${mask}` : ''}@`;
  const q = query === undefined ? '' : `?${maskQuery(query, mask)}`;
  const f = fragment === undefined ? '' : `#${redactString(fragment)}`;
  return `${scheme}//${auth}${hostPart}${redactString(pathPart)}${q}${f}`;
}

interface ParsedUrl {
  scheme: string;
  user?: string;
  password?: string;
  hostPart: string;
  rest: string;
}

/**
 * scheme://[user[:password]@]host[,host2…][:port]rest — split by hand rather than with WHATWG URL
 * so that a password containing `@`, `/`, `?` or `#` is cut at the LAST `@` of the authority (as
 * pg and ioredis read it) and multi-host strings (redis+cluster://a,b) keep every host.
 */
function parse(text: string): ParsedUrl | undefined {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:)\/\//.exec(text);
  if (m === null) return undefined;
  const scheme = m[1];
  const afterScheme = text.slice(m[0].length);
  // The authority ends at the last '@' (if any) and then at the first '/', '?' or '#' after it.
  const at = afterScheme.lastIndexOf('@', firstAuthorityEnd(afterScheme, afterScheme.lastIndexOf('@')));
  let user: string | undefined;
  let password: string | undefined;
  let hostAndRest = afterScheme;
  if (at >= 0) {
    const info = afterScheme.slice(0, at);
    hostAndRest = afterScheme.slice(at + 1);
    const colon = info.indexOf(':');
    if (colon >= 0) {
      user = info.slice(0, colon);
      password = info.slice(colon + 1);
    } else user = info;
    if (user !== undefined && /[\s]/.test(user)) return undefined;
  }
  const end = hostAndRest.search(/[/?#]/);
  const hostPart = end < 0 ? hostAndRest : hostAndRest.slice(0, end);
  const rest = end < 0 ? '' : hostAndRest.slice(end);
  if (/\s/.test(hostPart)) return undefined;
  return { scheme, user, password, hostPart, rest };
}

/** Where the authority would end if the last '@' belongs to the userinfo (bounded by whitespace). */
function firstAuthorityEnd(s: string, lastAt: number): number {
  if (lastAt < 0) return -1;
  const after = s.slice(lastAt + 1).search(/[/?#\s]/);
  // Only an '@' before the host part counts: an '@' after the first '/' of a URL without
  // userinfo (https://h/a@b) is in the path — detected when the text before it has a '/' and no ':'.
  const before = s.slice(0, lastAt);
  const slash = before.indexOf('/');
  if (slash >= 0 && !before.slice(0, slash).includes(':') && !before.slice(0, slash).includes('@')) return -1;
  return after < 0 ? s.length : lastAt + 1 + after;
}

function splitRest(rest: string): [string, string | undefined, string | undefined] {
  const hash = rest.indexOf('#');
  const fragment = hash >= 0 ? rest.slice(hash + 1) : undefined;
  const beforeHash = hash >= 0 ? rest.slice(0, hash) : rest;
  const qm = beforeHash.indexOf('?');
  return qm >= 0 ? [beforeHash.slice(0, qm), beforeHash.slice(qm + 1), fragment] : [beforeHash, undefined, fragment];
}

function maskQuery(query: string, mask: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let key = pair.slice(0, eq);
      try {
        key = decodeURIComponent(key);
      } catch {
        // keep the raw key
      }
      return SECRET_QUERY.test(key) ? `${pair.slice(0, eq)}=${mask}` : redactString(pair);
    })
    .join('&');
}
