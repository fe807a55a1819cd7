// Tokens of PromQL. Bounded: the parser refuses input over MAX_EXPR_LENGTH before lexing, and
// every loop here advances at least one character, so lexing is linear in the input.
import { PromQLSyntaxError } from '../errors';

export type TokenKind = 'ident' | 'number' | 'string' | 'duration' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Decoded value of a string token; numeric value of a number; milliseconds of a duration. */
  value?: string | number;
  pos: number;
}

const PUNCT = [
  '=~',
  '!~',
  '!=',
  '==',
  '>=',
  '<=',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  ',',
  '=',
  '>',
  '<',
  '+',
  '-',
  '*',
  '/',
  '^',
  '%',
  '@',
  ':',
];
const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};
const DURATION_RE = /^(?:\d+(?:ms|s|m|h|d|w|y))+/;
const NUMBER_RE = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/;
const IDENT_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  v: '\v',
  a: '\x07',
  '\\': '\\',
  '"': '"',
  "'": "'",
  '`': '`',
};

function durationMs(text: string, pos: number): number {
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]];
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new PromQLSyntaxError(`duration ${text} out of range`, pos);
  return ms;
}

function readString(input: string, start: number): { value: string; end: number } {
  const quote = input[start];
  let out = '';
  let i = start + 1;
  while (i < input.length) {
    const c = input[i];
    if (c === quote) return { value: out, end: i + 1 };
    if (c === '\n' && quote !== '`') break;
    if (c !== '\\' || quote === '`') {
      out += c;
      i++;
      continue;
    }
    const e = input[i + 1];
    if (e !== undefined && ESCAPES[e] !== undefined) {
      out += ESCAPES[e];
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = input.slice(i + 2, i + 2 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) throw new PromQLSyntaxError('invalid escape in string', i);
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) throw new PromQLSyntaxError('invalid escape in string', i);
      out += String.fromCodePoint(code);
      i += 2 + n;
    } else throw new PromQLSyntaxError('invalid escape in string', i);
  }
  throw new PromQLSyntaxError('unterminated string', start);
}

/** Splits `input` into tokens. `[` … `]` contents are lexed as durations. */
export function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let inBrackets = false;
  while (i < input.length) {
    const c = input[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < input.length && input[i] !== '\n') i++;
      continue;
    }
    const rest = input.slice(i, i + 64);
    if (inBrackets && /\d/.test(c)) {
      const m = DURATION_RE.exec(input.slice(i, i + 128));
      if (m === null) throw new PromQLSyntaxError('expected a duration such as 5m', i);
      tokens.push({ kind: 'duration', text: m[0], value: durationMs(m[0], i), pos: i });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const s = readString(input, i);
      tokens.push({ kind: 'string', text: input.slice(i, s.end), value: s.value, pos: i });
      i = s.end;
      continue;
    }
    const num = /[\d.]/.test(c) ? NUMBER_RE.exec(input.slice(i, i + 400)) : null;
    if (num !== null) {
      tokens.push({ kind: 'number', text: num[0], value: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const id = IDENT_RE.exec(input.slice(i, i + 1024));
    if (id !== null) {
      tokens.push({ kind: 'ident', text: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const p = PUNCT.find((x) => rest.startsWith(x));
    if (p === undefined) throw new PromQLSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
    if (p === '[') inBrackets = true;
    if (p === ']') inBrackets = false;
    tokens.push({ kind: 'punct', text: p, pos: i });
    i += p.length;
  }
  tokens.push({ kind: 'eof', text: '', pos: input.length });
  return tokens;
}
