// The forms l2.url accepts: one node (redis://, rediss://), a Redis Cluster by its seed nodes
// (redis+cluster://[user[:pw]@]h1:p1,h2:p2) and a Sentinel-managed master
// (redis+sentinel://[user[:pw]@]h1:p1,h2:p2/mymaster[?sentinelPassword=…]). The `s` variants
// (rediss+cluster, rediss+sentinel) use TLS. Parsed by hand: WHATWG URL cannot hold several hosts.
import type { ConfigReader } from '@periscope/core';
import { CacheConfigError } from './errors';

export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; url: string; nodes: RedisNode[]; username?: string; password?: string; tls: boolean }
  | {
      kind: 'sentinel';
      url: string;
      sentinels: RedisNode[];
      name: string;
      username?: string;
      password?: string;
      sentinelPassword?: string;
      db: number;
      tls: boolean;
    };

const ACCEPTED =
  'redis://host:port, rediss://…, redis+cluster://[:pw@]h1:p1,h2:p2 or redis+sentinel://[:pw@]h1:p1,h2:p2/mastername';
const FORM = /^(rediss?)(?:\+(cluster|sentinel))?:\/\/(.*)$/i;

/** Parses and checks l2.url (or the variable `from` names); fails with the reader's ConfigError. */
export function parseRedisTarget(url: string, from: string, r: Pick<ConfigReader, 'fail'>): RedisTarget {
  const m = FORM.exec(url);
  if (m === null) return r.fail(from, ACCEPTED, url);
  const tls = m[1].toLowerCase() === 'rediss';
  const kind = m[2]?.toLowerCase();
  if (kind === undefined) {
    try {
      new URL(url);
    } catch {
      r.fail(from, ACCEPTED, url);
    }
    return { kind: 'single', url };
  }
  const rest = m[3];
  const at = rest.lastIndexOf('@', firstOf(rest, '/?#', rest.lastIndexOf('@')));
  const auth = at >= 0 ? rest.slice(0, at) : '';
  const afterAuth = at >= 0 ? rest.slice(at + 1) : rest;
  const end = afterAuth.search(/[/?#]/);
  const hostList = end < 0 ? afterAuth : afterAuth.slice(0, end);
  const tail = end < 0 ? '' : afterAuth.slice(end);
  const nodes = parseNodes(hostList, kind === 'sentinel' ? 26379 : 6379);
  if (nodes === undefined) return r.fail(from, ACCEPTED, url);
  const { username, password } = splitAuth(auth);
  if (kind === 'cluster') return { kind: 'cluster', url, nodes, username, password, tls };
  const [pathPart, query] = splitQuery(tail);
  const segments = pathPart.split('/').filter((s) => s !== '');
  if (segments.length < 1 || segments.length > 2 || (segments[1] !== undefined && !/^\d+$/.test(segments[1])))
    return r.fail(from, `${ACCEPTED} (the master's name after the hosts, optionally /db)`, url);
  const params = new URLSearchParams(query);
  return {
    kind: 'sentinel',
    url,
    sentinels: nodes,
    name: decode(segments[0]),
    username,
    password,
    sentinelPassword: params.get('sentinelPassword') ?? undefined,
    db: segments[1] === undefined ? 0 : Number(segments[1]),
    tls,
  };
}

function firstOf(s: string, chars: string, from: number): number {
  if (from < 0) return -1;
  // The userinfo ends at the last '@' before the first '/', '?' or '#' that follows it.
  for (let i = from + 1; i < s.length; i++) if (chars.includes(s[i])) return i;
  return s.length;
}

function parseNodes(list: string, defaultPort: number): RedisNode[] | undefined {
  const nodes: RedisNode[] = [];
  for (const item of list.split(',')) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(item.trim());
    if (m === null) return undefined;
    const port = m[2] === undefined ? defaultPort : Number(m[2]);
    if (port < 1 || port > 65535) return undefined;
    nodes.push({ host: m[1].replace(/^\[|\]$/g, ''), port });
  }
  return nodes.length > 0 ? nodes : undefined;
}

function splitAuth(auth: string): { username?: string; password?: string } {
  if (auth === '') return {};
  const colon = auth.indexOf(':');
  if (colon < 0) return { username: decode(auth) || undefined };
  return { username: decode(auth.slice(0, colon)) || undefined, password: decode(auth.slice(colon + 1)) };
}

function splitQuery(tail: string): [string, string] {
  const hash = tail.indexOf('#');
  const t = hash >= 0 ? tail.slice(0, hash) : tail;
  const q = t.indexOf('?');
  return q >= 0 ? [t.slice(0, q), t.slice(q + 1)] : [t, ''];
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Checks a Redis URL in the forms l2.url accepts (for applications that take one setting and hand
 * it to the cache): the parsed target, or a CacheConfigError naming `option`.
 */
export function parseRedisUrl(url: string, option = 'l2.url'): RedisTarget {
  const fail = (from: string, accepted: string, got: unknown): never => {
    throw new CacheConfigError(from, accepted, got);
  };
  return parseRedisTarget(url, option, { fail });
}
