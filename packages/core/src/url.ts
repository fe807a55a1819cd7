// The one scrubber of URLs and connection strings (Redis, PostgreSQL, OTLP, Pushgateway, agent
// endpoints) for logs, spans, /status, banners and error messages. It never throws: a string that
// is not a URL is scrubbed as free text.
import { REDACTED, redactString } from './redact';
import { userinfoEnd } from './redact/url-scan';

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
  let text: string;
  try {
    text = typeof url === 'string' ? url : url instanceof URL ? url.href : String(url);
    // Redacted whole, then cut: a cut first could drop the '@' that marks the password.
    const out = redactText(text, options?.form ?? 'masked');
    return out.length > MAX_URL_LENGTH ? `${out.slice(0, MAX_URL_LENGTH)}…` : out;
  } catch {
    // A hostile toString or a bug here must not take a log call down; show nothing of it.
    return '[unreadable URL]';
  }
}

function redactText(text: string, form: UrlForm): string {
  const parsed = parse(text);
  if (parsed === undefined) return redactString(text);
  const mask = form === 'semconv' ? 'REDACTED' : REDACTED;
  const { scheme, user, password, hostPart, rest } = parsed;
  if (form === 'origin') return `${scheme}//${hostPart}`;
  const [pathPart, query, fragment] = splitRest(rest);
  if (form === 'no-credentials') return redactString(`${scheme}//${hostPart}${pathPart}`);
  let auth = '';
  if (form === 'semconv') auth = user !== undefined || password !== undefined ? `${mask}:${mask}@` : '';
  else if (user !== undefined || password !== undefined)
    auth = `${redactString(user ?? '')}${password !== undefined ? `:${mask}` : ''}@`;
  const q = query === undefined ? '' : `?${maskQuery(query, mask)}`;
  const f = fragment === undefined ? '' : `#${redactString(fragment)}`;
  // Scrubbed with the host, so that host-bound patterns (Slack webhook paths) see it.
  const base = redactString(`${scheme}//${hostPart}${pathPart}`);
  return `${base.slice(0, scheme.length + 2)}${auth}${base.slice(scheme.length + 2)}${q}${f}`;
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
 * so that a password containing '@' is cut at the LAST '@' (as WHATWG URL, pg and ioredis read it),
 * one containing '/', '?' or '#' is still masked (see `userinfoEnd`), and multi-host strings
 * (redis+cluster://a,b) keep every host.
 */
function parse(text: string): ParsedUrl | undefined {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]{0,31}:)\/\//.exec(text);
  if (m === null) return undefined;
  const scheme = m[1];
  const start = m[0].length;
  const at = userinfoEnd(text, scheme.slice(0, -1), start, text.lastIndexOf('@'));
  let user: string | undefined;
  let password: string | undefined;
  if (at >= 0) {
    const info = text.slice(start, at);
    const colon = info.indexOf(':');
    if (colon >= 0) {
      user = info.slice(0, colon);
      password = info.slice(colon + 1);
    } else user = info;
  }
  const hostAndRest = at >= 0 ? text.slice(at + 1) : text.slice(start);
  const end = hostAndRest.search(/[/?#]/);
  const hostPart = end < 0 ? hostAndRest : hostAndRest.slice(0, end);
  const rest = end < 0 ? '' : hostAndRest.slice(end);
  if (/\s/.test(hostPart)) return undefined;
  return { scheme, user, password, hostPart, rest };
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
