// The redaction corpus (issue 11, items 8 and 10): what must be masked, and what must stay
// readable. Each positive case names the secret that must be gone and the text that must remain.
import fc from 'fast-check';
import { createRedactor, DEFAULT_REDACT_PATTERNS, redact, redactString, REDACTED } from '@periscope/core';

/** [input, secret that must not survive, expected output] */
const MASKED: [string, string, string][] = [
  // URL passwords: the LAST '@' of the authority (item 8)
  ['db postgres://app:p@ssw0rd-Secret@127.0.0.1:1/db up', 'ssw0rd', `db postgres://app:${REDACTED}@127.0.0.1:1/db up`],
  ['redis://:a@b@c@cache:6379/0', 'a@b@c', `redis://:${REDACTED}@cache:6379/0`],
  ['url=postgres://u:pa/ss@db/app', 'pa/ss', `url=postgres://u:${REDACTED}@db/app`],
  ['"postgres://u:pa?ss#x@db/app"', 'pa?ss', `"postgres://u:${REDACTED}@db/app"`],
  ['{"a":"postgres://u:pw1@h/db","b":"me@x.com"}', 'pw1', `{"a":"postgres://u:${REDACTED}@h/db","b":"me@x.com"}`],
  [
    'next=https://u:p%40ss@h https://x/?u=redis://:pw2@r',
    'pw2',
    `next=https://u:${REDACTED}@h https://x/?u=redis://:${REDACTED}@r`,
  ],
  // values with spaces, commas, semicolons (item 10)
  ['password=hunter 2 host=db', 'hunter', `password=${REDACTED} host=db`],
  ['login failed: password=abc, def; user=bob', 'def', `login failed: password=${REDACTED}; user=bob`],
  ['{"password": "a b, c; d", "user": "x"}', 'a b', `{"password":"${REDACTED}","user":"x"}`],
  ['cfg "password": "a b, c; d", "user": "x"', 'a b', `cfg "password": "${REDACTED}", "user": "x"`],
  ["conn host=db password='se cret;x' dbname=app", 'se cret', `conn host=db password='${REDACTED}' dbname=app`],
  ['secret: "quoted \\" inside" after', 'inside', `secret: "${REDACTED}" after`],
  ['api_key = "unterminated value here', 'unterminated', `api_key = "${REDACTED}`],
  // JSON inside a JSON string
  ['{"body":"{\\"password\\":\\"hun ter2\\",\\"ok\\":1}"}', 'hun ter2', ''],
  ['log {\\"token\\": \\"abc def\\"} end', 'abc def', `log {\\"token\\": \\"${REDACTED}\\"} end`],
  // headers in free text
  ['Cookie: sid=abc123; theme=dark', 'abc123', `Cookie: ${REDACTED}`],
  ['Set-Cookie: session=xyz789; Path=/; HttpOnly\nnext line', 'xyz789', `Set-Cookie: ${REDACTED}\nnext line`],
  ['Authorization: Token abc123def', 'abc123def', `Authorization: Token ${REDACTED}`],
  ['Authorization: Digest username="u", response="6629fae4"', '6629fae4', `Authorization: Digest ${REDACTED}`],
  ['proxy-authorization: Basic dXNlcjpwYXNz', 'dXNlcjpwYXNz', `proxy-authorization: Basic ${REDACTED}`],
  ['Authorization: s3cr3tvalue', 's3cr3tvalue', `Authorization: ${REDACTED}`],
  ['"headers":{"cookie":"a=1; b=2"}', 'b=2', `"headers":{"cookie":"${REDACTED}"}`],
  // token shapes
  ['pat github_pat_11ABCDEFG0_abcdefghijklmnopqrstuvwxyz0123 used', 'github_pat_11', `pat ${REDACTED} used`],
  ['stripe sk_live_51Habcdefghij0123 and rk_test_abcdefghijk', 'sk_live', `stripe ${REDACTED} and ${REDACTED}`],
  [
    'hook https://hooks.slack.com/services/T0001/B0002/XXXXabcd ok',
    'XXXXabcd',
    `hook https://hooks.slack.com/services/${REDACTED} ok`,
  ],
  [
    'sas https://a.blob.core.windows.net/c?sv=2021&sig=abc%2Bdef&se=1',
    'abc%2B',
    `sas https://a.blob.core.windows.net/c?sv=2021&sig=${REDACTED}&se=1`,
  ],
  [
    's3 ?X-Amz-Credential=AKID%2F2023&X-Amz-Signature=f00dbeef&x=1',
    'f00dbeef',
    `s3 ?X-Amz-Credential=${REDACTED}&X-Amz-Signature=${REDACTED}&x=1`,
  ],
  ['whsec_abcdefghijklmnopqrstuvwx in config', 'whsec_abc', `${REDACTED} in config`],
  // an unquoted value runs up to the next key: prose after it is masked with it
  ['session_id=s-123456 ok', 's-123456', `session_id=${REDACTED}`],
  ['session_id=s-123456 user=ada', 's-123456', `session_id=${REDACTED} user=ada`],
  ['Bearer ya29.a0AfH6SMBx-1234567890', 'ya29', `Bearer ${REDACTED}`],
];

/** Ordinary text that must come out exactly as it went in. */
const READABLE: string[] = [
  'password reset email sent',
  'password policy: at least 12 characters',
  'tokens: 1234',
  'used 1200 tokens (input_tokens=800, output_tokens=400)',
  'max_tokens=256 tokenizer: bpe author: jane',
  'session started',
  'sessions: 3 active',
  'cookie consent banner shown',
  'basic configuration loaded',
  'the key is in the cache',
  'signature verified for release v1.2.3',
  'https://medium.com/@user/post',
  'https://host:8080/reset?email=a@b.com',
  'ssh://git@github.com:22/org/repo.git',
  'redis://cache:6379/0 connected',
  'mail from ada@example.com at 10:30',
  'task 42 done in 12ms, 3 retries; next=7',
  'model gpt-4o-mini temperature=0.2',
  'skipped 3 sk-items',
  'authored by the team',
  'credential rotation scheduled',
];

describe('redaction corpus', () => {
  it.each(MASKED)('masks %j', (input, secret, expected) => {
    const out = redactString(input);
    expect(out).not.toContain(secret);
    if (expected !== '') expect(out).toBe(expected);
    // idempotent: redacting twice changes nothing more
    expect(redactString(out)).toBe(out);
  });

  it.each(READABLE.map((s) => [s]))('keeps %j readable', (input) => {
    expect(redactString(input)).toBe(input);
    expect(redact({ msg: input })).toEqual({ msg: input });
  });

  it('redacts JSON inside a JSON string by key, at any nesting, and keeps clean JSON as written', () => {
    const inner = JSON.stringify({ user: 'u', credentials: { pass: 'p-secret' }, session: 'sess-1' });
    const outer = JSON.stringify({ event: 'login', body: inner });
    const out = redactString(outer);
    expect(out).not.toMatch(/p-secret|sess-1/);
    expect(JSON.parse(JSON.parse(out).body)).toEqual({ user: 'u', credentials: REDACTED, session: REDACTED });
    expect(redact({ body: inner })).toEqual({
      body: JSON.stringify({ user: 'u', credentials: REDACTED, session: REDACTED }),
    });
    const clean = '{ "a": 1,  "b": [1, 2] }';
    expect(redactString(clean)).toBe(clean);
  });
});

describe('redaction keys (item 10)', () => {
  it('recognises the added secret keys and leaves look-alikes alone', () => {
    const input = {
      cookies: 'a=1',
      passwords: ['p1', 'p2'],
      session: { id: 's' },
      jwt: 'x.y.z',
      signature: 'sig',
      privateKeyPem: '---',
      encryptionKey: 'k',
      signingKey: 'k',
      set_cookie: 'c',
      // not secrets
      tokens: 1234,
      input_tokens: 12,
      sessionStarted: true,
      sessionCount: 3,
      passwordResetSent: true,
      signatureAlgorithm: 'RS256',
      cookieConsent: 'yes',
      author: 'jane',
    };
    expect(redact(input)).toEqual({
      cookies: REDACTED,
      passwords: REDACTED,
      session: REDACTED,
      jwt: REDACTED,
      signature: REDACTED,
      privateKeyPem: REDACTED,
      encryptionKey: REDACTED,
      signingKey: REDACTED,
      set_cookie: REDACTED,
      tokens: 1234,
      input_tokens: 12,
      sessionStarted: true,
      sessionCount: 3,
      passwordResetSent: true,
      signatureAlgorithm: 'RS256',
      cookieConsent: 'yes',
      author: 'jane',
    });
  });

  it('uses a custom replacement in built-in templates too', () => {
    const r = createRedactor({ replacement: '***' });
    expect(r.redactString('postgres://u:p@w@h/db Bearer abcdefgh12345678 password=x')).toBe(
      'postgres://u:***@h/db Bearer *** password=***',
    );
    expect(createRedactor({ replacement: '$1$&' }).redactString('Bearer abcdefgh12345678')).toBe('Bearer $1$&');
  });
});

// ---- properties: secrets generated in every position --------------------------------------
const secretChars = fc.string({
  unit: fc.constantFrom(
    ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$%()*+-./:=?@[]^_{|}~'.split(''),
  ),
  minLength: 6,
  maxLength: 30,
});
/** Text around a secret: words, punctuation, newlines — anything but what would end or extend a URL oddly. */
const filler = fc.string({
  unit: fc.constantFrom(...'abc xyz 0123 ,.;()\n\t-_'.split('')),
  maxLength: 30,
});
/** A secret wrapped in markers that are never in filler or templates, so a leak is unambiguous. */
const marked = secretChars.map((s) => `Z${s}Q`);

const TEMPLATES: ((s: string) => string)[] = [
  (s) => `postgres://app:${s}@db.internal:5432/app`,
  (s) => `redis://:${s}@cache:6379`,
  (s) => `password=${s}`,
  (s) => `db_password: ${s}`,
  (s) => `"token": "${s.replace(/["\\]/g, '')}"`,
  (s) => `{"client_secret":"${s.replace(/["\\]/g, '')}"}`,
  (s) => `Cookie: sid=${s}`,
  (s) => `Authorization: Token ${s}`,
];

describe('redaction properties', () => {
  it('a generated secret in any template, at any position in the text, never survives', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TEMPLATES), marked, filler, filler, (template, secret, before, after) => {
        const text = `${before} ${template(secret)}\n${after}`;
        const out = redactString(text);
        const core = secret.replace(/["\\]/g, '');
        expect(out).not.toContain(core);
        expect(out.startsWith(`${before} `)).toBe(true);
        expect(out.endsWith(`\n${after}`)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('secrets in object values under secret keys, at any depth, never survive', () => {
    const key = fc.constantFrom(
      'password',
      'apiKey',
      'DB_PASSWORD',
      'cookies',
      'session',
      'privateKeyPem',
      'x-api-key',
    );
    const path = fc.array(fc.constantFrom('a', 'b', 'config', 'meta'), { maxLength: 5 });
    fc.assert(
      fc.property(key, marked, path, (k, secret, p) => {
        let value: unknown = { [k]: secret, keep: 'visible' };
        for (const segment of p) value = { [segment]: value };
        const out = JSON.stringify(redact(value));
        expect(out).not.toContain(secret);
        expect(out).toContain('visible');
        // and as JSON text inside a string
        expect(JSON.stringify(redact({ body: JSON.stringify(value) }))).not.toContain(secret);
      }),
    );
  });

  it('text without secret markers is never changed', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'abc xyz 0123,.;()\n-_'.split('')), maxLength: 200 }), (s) => {
        expect(redactString(s)).toBe(s);
      }),
    );
  });

  it('the fast pre-checks never skip a match: default redactor = each built-in run alone behind its own trigger', () => {
    const alone = DEFAULT_REDACT_PATTERNS.map((p) => createRedactor({ defaultPatterns: false, patterns: [{ ...p }] }));
    const piece = fc.constantFrom(
      'Bearer ',
      'BASIC ',
      'basic ',
      'password',
      'Token',
      ':',
      '=',
      '://',
      '@',
      'eyJ',
      'sk-',
      'sk_live_',
      'rk_test_',
      'AKIA',
      'AIza',
      'ghp_',
      'github_pat_',
      'xoxb-',
      'whsec_',
      'HOOKS.slack.com/services/',
      'PRIVATE KEY-----',
      '-----BEGIN ',
      'Cookie',
      'auth',
      '"',
      ' ',
      '\n',
      'abcdefgh',
      '0123456789',
      'ABCDEFGHIJKLMNOP',
      '.',
      '/',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (parts) => {
        const text = parts.join('');
        fc.pre(text.length >= 5 && !/^\s*[[{]/.test(text));
        expect(redactString(text)).toBe(alone.reduce((t, r) => r.redactString(t), text));
      }),
      { numRuns: 1000 },
    );
  });

  it('redactString never throws and is idempotent on any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const once = redactString(s);
        expect(redactString(once)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });
});
