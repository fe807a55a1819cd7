// Finds secrets written as key=value / key: value / "key": "value" in free text (query strings,
// config dumps, logfmt, JSON, JSON inside a JSON string, HTTP headers) by hand, in one forward
// pass. A value ends at its closing quote when quoted; unquoted, it runs over spaces, commas and
// semicolons until the next `key=` / `key:` (a password may contain them), a line end, '&', a
// quote or a closing brace.

/**
 * Key stems, lowercase without '-' and '_'; a key that ENDS in one counts (db_password, x-api-key,
 * oauth_token, sslpassword, X-Amz-Signature). Keys that merely contain a stem ("tokens: 12",
 * "author:", "password reset") are left alone.
 */
const STEMS: readonly string[] = [
  'authorization',
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'secretkey',
  'token',
  'apikey',
  'accesskey',
  'privatekey',
  'credential',
  'credentials',
  'signature',
  'sig',
  'sessionid',
  'cookie',
  'cookies',
  'auth',
];
/** Keys are read back from the separator this far at most. */
const MAX_KEY = 40;

type Kind = 'plain' | 'authorization' | 'cookie';

function kindOf(stem: string): Kind {
  if (stem === 'authorization') return 'authorization';
  if (stem.startsWith('cookie')) return 'cookie';
  return 'plain';
}

const isQuote = (c: number) => c === 34 || c === 39;
const isBlank = (c: number) => c === 32 || c === 9;
const isLineEnd = (c: number) => c === 10 || c === 13;
/** Ends an unquoted token: whitespace, quotes, & , ; } ] and '\' (an escape in JSON text). */
function isTokenEnd(c: number): boolean {
  return c <= 32 || c === 34 || c === 39 || c === 38 || c === 44 || c === 59 || c === 125 || c === 93 || c === 92;
}
function isKeyChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46;
}

/**
 * The kind of secret key that ends just before the separator at `sep` (`key=`, `key :`,
 * `"key":`, `\\"key\\":`), or undefined; nothing before `floor` is read.
 */
function keyBefore(text: string, sep: number, floor: number): Kind | undefined {
  let e = sep;
  while (e > floor && isBlank(text.charCodeAt(e - 1))) e--;
  if (e > floor && isQuote(text.charCodeAt(e - 1))) {
    e--;
    if (e > floor && text.charCodeAt(e - 1) === 92) e--;
  }
  let b = e;
  while (b > floor && e - b < MAX_KEY && isKeyChar(text.charCodeAt(b - 1))) b--;
  if (b === e) return undefined;
  for (const stem of STEMS) if (endsWithStem(text, b, e, stem)) return kindOf(stem);
  return undefined;
}

/** Whether the key text[b, e) ends in `stem`, case-insensitively, ignoring '-', '_' and '.'. */
function endsWithStem(text: string, b: number, e: number, stem: string): boolean {
  let i = e - 1;
  for (let j = stem.length - 1; j >= 0; j--, i--) {
    let c = text.charCodeAt(i);
    while (i >= b && (c === 95 || c === 45 || c === 46)) c = text.charCodeAt(--i);
    if (i < b) return false;
    if (c >= 65 && c <= 90) c += 32;
    if (c !== stem.charCodeAt(j)) return false;
  }
  return true;
}

/** Index of the value after the separator at `sep` (`=`, `=>`, `:`, `:=`, then blanks). */
function valueStart(text: string, sep: number): number {
  let p = sep + 1;
  const n = text.charCodeAt(p);
  if ((text.charCodeAt(sep) === 61 && n === 62) || (text.charCodeAt(sep) === 58 && n === 61)) p++;
  while (isBlank(text.charCodeAt(p))) p++;
  return p;
}

/** The end of the line at p: CR, LF, or an escaped \n, \r or \" (the text is a JSON string's inside). */
function lineEnd(text: string, p: number): number {
  while (p < text.length) {
    const c = text.charCodeAt(p);
    if (isLineEnd(c)) break;
    if (c === 92) {
      const n = text.charCodeAt(p + 1);
      if (n === 110 || n === 114 || n === 34) break;
    }
    p++;
  }
  return p;
}

/** [start, end) of a quoted value starting at p (its opening quote), without the quotes. */
function quoted(text: string, p: number): [number, number] {
  if (text.charCodeAt(p) === 92) {
    // \"value\" (JSON inside a JSON string): ends at the next \" (or the outer string's end).
    const q = text.slice(p, p + 2);
    const end = text.indexOf(q, p + 2);
    return [p + 2, end >= 0 ? end : lineEnd(text, p + 2)];
  }
  const q = text.charCodeAt(p);
  let i = p + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === q) return [p + 1, i];
    if (isLineEnd(c)) break;
    i += c === 92 ? 2 : 1;
  }
  // Unclosed: everything to the line end may be the secret.
  return [p + 1, Math.min(i, text.length)];
}

function tokenEnd(text: string, p: number): number {
  while (p < text.length && !isTokenEnd(text.charCodeAt(p))) p++;
  return p;
}

/** Whether the token at p is a key (`host=`, `user:`, `User Id =`), which ends the previous value. */
function isKeyAt(text: string, p: number): boolean {
  let i = p;
  while (i < text.length && isKeyChar(text.charCodeAt(i))) i++;
  if (i === p) return false;
  while (isBlank(text.charCodeAt(i))) i++;
  const c = text.charCodeAt(i);
  return c === 61 || c === 58;
}

/** An unquoted value: tokens joined by blanks, commas or semicolons, up to the next key. */
function unquoted(text: string, p: number): number {
  let end = tokenEnd(text, p);
  for (;;) {
    let q = end;
    while (q < text.length) {
      const c = text.charCodeAt(q);
      if (!(isBlank(c) || c === 44 || c === 59)) break;
      q++;
    }
    if (q === end || q >= text.length || isTokenEnd(text.charCodeAt(q)) || isKeyAt(text, q)) return end;
    end = tokenEnd(text, q);
  }
}

/** [start, end) of the secret part of the value at p, or undefined when there is nothing to mask. */
function valueSpan(text: string, p: number, kind: Kind): [number, number] | undefined {
  const c = text.charCodeAt(p);
  if (p >= text.length || isLineEnd(c) || c === 123 || c === 91) return undefined; // empty, { or [
  let start = p;
  let end: number;
  if (isQuote(c) || (c === 92 && isQuote(text.charCodeAt(p + 1)))) [start, end] = quoted(text, p);
  else if (kind === 'plain') end = unquoted(text, p);
  else end = lineEnd(text, p);
  if (kind === 'authorization') {
    // Keep the scheme ("Bearer", "Token", "Digest"): mask the credentials after it.
    let w = start;
    while (w < end && isKeyChar(text.charCodeAt(w))) w++;
    if (w > start && w < end && isBlank(text.charCodeAt(w))) {
      while (w < end && isBlank(text.charCodeAt(w))) w++;
      start = w;
    }
  }
  return end > start ? [start, end] : undefined;
}

/** key=value secrets in `text` → key=<replacement>. One pass: each '=' or ':' looks back at its key. */
export function scanKeyValues(text: string, replacement: string): string {
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    // '=' or ':', but not the ':' of '://'
    if ((c !== 61 && c !== 58) || (c === 58 && text.charCodeAt(i + 1) === 47 && text.charCodeAt(i + 2) === 47)) {
      i++;
      continue;
    }
    const kind = keyBefore(text, i, copied);
    const span = kind === undefined ? undefined : valueSpan(text, valueStart(text, i), kind);
    if (span === undefined) {
      i++;
      continue;
    }
    out += text.slice(copied, span[0]) + replacement;
    copied = span[1];
    i = Math.max(span[1], i + 1);
  }
  return copied === 0 ? text : out + text.slice(copied);
}
