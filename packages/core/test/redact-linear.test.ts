// Every redaction pattern runs in linear time on any input (issue 11, item 11): 1 MB of crafted
// text per pattern must take at most BOUND× one plain JavaScript pass over the same text. Linear
// patterns measure 1–40× here (the high end is inputs that are nothing but secrets: 100k
// replacements per MB); a quadratic one measures thousands (see the last test, which proves the
// bound catches the old url_password regex). Pattern and scan are timed interleaved, best of
// several rounds, so load on the machine slows both alike and a stall in one round is dropped.
import { performance } from 'node:perf_hooks';
import { createRedactor, DEFAULT_REDACT_PATTERNS, Redactor } from '@periscope/core';

const N = 1 << 20;
const fill = (unit: string, n = N) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

/** Crafted inputs: each aims at the repeated parts of one pattern; all run against every pattern. */
const ADVERSARIAL: Record<string, (n: number) => string> = {
  schemeRun: (n) => fill('a.', n),
  manySchemes: (n) => fill('a://', n),
  userinfos: (n) => fill('x://a:b@', n),
  webPathAt: (n) => fill('https://h:1/a@', n),
  noAt: (n) => 'postgres://u:' + 'p'.repeat(n),
  ats: (n) => '@'.repeat(n),
  slack: (n) => fill('hooks.slack.com/services/a/', n),
  bearers: (n) => fill('bearer ', n),
  bearerBlank: (n) => 'Bearer' + ' '.repeat(n),
  basics: (n) => fill('basic ', n),
  basicRun: (n) => 'Basic ' + 'a'.repeat(n),
  keys: (n) => fill('password=', n),
  escapedQuotes: (n) => fill('password="x\\" ', n),
  spacedValue: (n) => 'password=' + fill(' a', n),
  jsonKeys: (n) => fill('"password":"', n),
  jsonInJson: (n) => fill('\\"token\\":\\"', n),
  commas: (n) => 'auth:' + ','.repeat(n),
  tokens: (n) => fill('token: a ', n),
  cookieLine: (n) => fill('Cookie: a=1; ', n),
  pemRun: (n) => '-----BEGIN ' + 'A'.repeat(n),
  pemEnds: (n) => '-----BEGIN PRIVATE KEY-----' + fill('-----END A', n),
  pemBegins: (n) => fill('-----BEGIN ', n),
  jwtDashes: (n) => fill('eyJ-', n),
  jwtParts: (n) => fill('eyJaaaaa.eyJaaaaa', n),
  jwtDots: (n) => fill('eyJaaaaa.', n),
  skDashes: (n) => fill('sk-', n),
  skShort: (n) => fill('sk-aaaaaaaaaaaaaaa!', n),
  slackTokens: (n) => fill('xoxb-', n),
  ghRun: (n) => 'ghp_' + 'a'.repeat(n) + '_',
  githubPats: (n) => fill('github_pat_', n),
  awsIds: (n) => fill('AKIA', n),
  stripe: (n) => fill('sk_live_', n),
  words: (n) => fill('the quick brown fox jumps over the lazy dog ', n),
  mixed: (n) => fill('password=a@b://c eyJ sk- Bearer "token": ', n),
};

const BOUND = 100;
// Each test times megabytes of text, many times: far longer than a unit test on a loaded machine.

/** One plain pass over the text in JavaScript: the unit of the bound. */
function plainScan(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h + s.charCodeAt(i)) | 0;
  return h;
}

function elapsed(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** min(time of fn) / min(time of a plain scan of text), measured interleaved. */
function ratioToScan(text: string, fn: () => unknown, rounds = 3): number {
  let tFn = Infinity;
  let tScan = Infinity;
  for (let i = 0; i < rounds; i++) {
    tScan = Math.min(
      tScan,
      elapsed(() => plainScan(text)),
    );
    tFn = Math.min(tFn, elapsed(fn));
  }
  return tFn / Math.max(tScan, 0.05);
}

const wide = { maxStringLength: 4 * N };
const redactors: [string, Redactor][] = [
  // a copy of a built-in runs alone behind its own trigger regex
  ...DEFAULT_REDACT_PATTERNS.map((p): [string, Redactor] => [
    p.name,
    createRedactor({ ...wide, defaultPatterns: false, patterns: [{ ...p }] }),
  ]),
  ['all patterns', createRedactor(wide)],
];

describe('redaction runs in linear time', () => {
  const texts = Object.entries(ADVERSARIAL).map(([name, make]): [string, string] => [name, make(N)]);
  for (let i = 0; i < 5; i++) plainScan(texts[0][1]); // let V8 optimize the unit

  it.each(redactors)(
    `%s: 1 MB of each crafted input within ${BOUND}× a plain scan`,
    (_name, r) => {
      const slow: string[] = [];
      for (const [input, text] of texts) {
        let ratio = ratioToScan(text, () => r.redactString(text));
        // A second, longer try: a stalled machine is not a quadratic pattern.
        if (ratio > BOUND)
          ratio = Math.min(
            ratio,
            ratioToScan(text, () => r.redactString(text), 6),
          );
        if (ratio > BOUND) slow.push(`${input}: ${ratio.toFixed(0)}×`);
      }
      expect(slow).toEqual([]);
    },
    120_000,
  );

  it('the bound catches a quadratic pattern (the url_password regex before issue 11) on only 32 KB', () => {
    const oldUrlPassword = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/?#@]*):([^\s@/]+)@/gi;
    const text = ADVERSARIAL.schemeRun(32 * 1024);
    expect(ratioToScan(text, () => text.replace(oldUrlPassword, ''), 1)).toBeGreaterThan(BOUND);
    const r = createRedactor(wide);
    expect(ratioToScan(text, () => r.redactString(text))).toBeLessThan(BOUND);
  }, 120_000);

  it('a 1 MB object of crafted strings is redacted quickly with the default limits', () => {
    const value = Object.fromEntries(Object.entries(ADVERSARIAL).map(([k, make]) => [k, make(N / 16)]));
    const r = createRedactor();
    expect(
      Math.min(
        elapsed(() => r.redact(value)),
        elapsed(() => r.redact(value)),
      ),
    ).toBeLessThan(1000);
  });
});
