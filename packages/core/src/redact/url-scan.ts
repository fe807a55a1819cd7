// Finds URL passwords in free text by hand, in one forward pass: a regex that must find the LAST
// '@' of an authority backtracks quadratically on crafted input (issue 11, item 11).

/** Schemes where an '@' after the first '/', '?' or '#' is usually in the path or query (`/@me`, `?email=a@b`). */
const WEB_SCHEMES = new Set(['http', 'https', 'ws', 'wss']);
/** host, host:port, [v6]:port — what an authority without userinfo looks like. */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]*\]|[A-Za-z0-9._~%-]*)(?::\d*)?$/;
const MAX_SCHEME = 32;

function isSchemeChar(c: number): boolean {
  // A-Z a-z 0-9 + . -
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 46 || c === 45;
}

/** Where a URL ends in free text: whitespace, a quote, a backtick or an angle bracket. */
function isUrlEnd(c: number): boolean {
  return c <= 32 || c === 34 || c === 39 || c === 96 || c === 60 || c === 62;
}

/**
 * The index of the '@' that ends the userinfo of the authority starting at `start`, given the
 * last '@' of the URL (`lastAt`, -1 when none), or -1 when the URL has no userinfo. The LAST '@'
 * counts, as in WHATWG URL, pg and ioredis, so a password may contain '@'. A password may also
 * contain '/', '?' or '#' — except in web URLs (http, https, ws, wss) whose text before the first
 * of those is a plain host[:port]: there the '@' is in the path or query.
 */
export function userinfoEnd(text: string, scheme: string, start: number, lastAt: number): number {
  if (lastAt < start) return -1;
  let a = start;
  while (a < lastAt) {
    const c = text.charCodeAt(a);
    if (c === 47 || c === 63 || c === 35) break; // / ? #
    a++;
  }
  if (a >= lastAt) return lastAt;
  if (WEB_SCHEMES.has(scheme.toLowerCase()) && HOST_PORT.test(text.slice(start, a))) return -1;
  return lastAt;
}

/** The first ':' of the userinfo [start, at), or -1. */
function userinfoColon(text: string, start: number, at: number): number {
  for (let i = start; i < at; i++) if (text.charCodeAt(i) === 58) return i;
  return -1;
}

/** scheme://user:password@host → scheme://user:<replacement>@host, for every URL in `text`. */
export function scanUrlPasswords(text: string, replacement: string): string {
  let out = '';
  let copied = 0;
  let pos = 0;
  // The current URL region (after '://' up to whitespace or a quote) and its last '@'; several
  // '://' can share one region (a URL in a query string), which is then scanned once.
  let regionEnd = -1;
  let regionLastAt = -1;
  for (;;) {
    const i = text.indexOf('://', pos);
    if (i < 0) break;
    pos = i + 3;
    let s = i;
    while (s > 0 && i - s < MAX_SCHEME && isSchemeChar(text.charCodeAt(s - 1))) s--;
    if (s === i) continue;
    const start = i + 3;
    if (i >= regionEnd) {
      regionLastAt = -1;
      let e = start;
      for (; e < text.length; e++) {
        const c = text.charCodeAt(e);
        if (isUrlEnd(c)) break;
        if (c === 64) regionLastAt = e;
      }
      regionEnd = e;
    }
    const at = userinfoEnd(text, text.slice(s, i), start, regionLastAt);
    if (at < 0) continue;
    const colon = userinfoColon(text, start, at);
    if (colon >= 0 && colon + 1 < at) {
      out += text.slice(copied, colon + 1) + replacement;
      copied = at;
    }
    // Nothing after the last '@' of the region can hold another password.
    pos = Math.max(pos, regionEnd);
  }
  return copied === 0 ? text : out + text.slice(copied);
}
