// Issue 21 (mutation testing): the key matcher remembers a verdict per raw key (keys repeat
// endlessly in logs), but that memory is bounded: a stream of ever-new attribute names, hostile or
// generated, must not grow it without end, and verdicts must stay right once it starts over.
import { createRedactor, REDACTED } from '@periscope/core';
import { createKeyMatcher, KEY_VERDICT_CACHE_MAX } from '../src/redact/keys';

/** Ever-new names in the shapes an attacker or a code generator sends; every 10th one is secret. */
function hostileKey(i: number): string {
  if (i % 10 === 0) return `attr.${i}_token`;
  return i % 2 ? `x-attr-${i}\u202e<script>` : `A${'_'.repeat(i % 7)}${i}`;
}

describe('key verdict memory', () => {
  test('a repeated key is remembered once: asking again adds nothing, each new key adds one', () => {
    const isSecret = createKeyMatcher({});
    expect(isSecret.cachedVerdicts).toBe(0);
    for (let i = 0; i < 100; i++) expect(isSecret(hostileKey(i))).toBe(i % 10 === 0);
    expect(isSecret.cachedVerdicts).toBe(100);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100; i++) expect(isSecret(hostileKey(i))).toBe(i % 10 === 0);
    }
    expect(isSecret.cachedVerdicts).toBe(100);
    expect(isSecret('password')).toBe(true);
    expect(isSecret.cachedVerdicts).toBe(101);
  });

  test('100 000 distinct hostile keys never hold more than the bound, which is used in full', () => {
    const isSecret = createKeyMatcher({});
    let most = 0;
    let secrets = 0;
    let wrong = 0;
    for (let i = 0; i < 100_000; i++) {
      const secret = isSecret(hostileKey(i));
      if (secret) secrets++;
      if (secret !== (i % 10 === 0)) wrong++;
      most = Math.max(most, isSecret.cachedVerdicts);
    }
    expect(wrong).toBe(0);
    expect(secrets).toBe(10_000);
    expect(most).toBe(KEY_VERDICT_CACHE_MAX);
    expect(isSecret.cachedVerdicts).toBeLessThanOrEqual(KEY_VERDICT_CACHE_MAX);
    expect(KEY_VERDICT_CACHE_MAX).toBeGreaterThanOrEqual(1000); // big enough to serve real key sets
  });

  test('verdicts stay right after the memory starts over: keys remembered before are judged again', () => {
    const isSecret = createKeyMatcher({ keys: ['tenant'], keySuffixes: true });
    const known: [string, boolean][] = [
      ['password', true],
      ['Tenant', true],
      ['db_password', true],
      ['user', false],
      ['passenger', false],
    ];
    for (const [key, secret] of known) expect(isSecret(key)).toBe(secret);
    let i = 0; // new keys until the memory starts over (bounded, so a matcher that never does fails)
    while (isSecret.cachedVerdicts >= known.length && i < 2 * KEY_VERDICT_CACHE_MAX) isSecret(`filler${i++}`);
    expect(i).toBe(KEY_VERDICT_CACHE_MAX - known.length + 1);
    for (let round = 0; round < 2; round++) {
      for (const [key, secret] of known) expect(isSecret(key)).toBe(secret);
    }
    expect(isSecret(`filler${i - 1}`)).toBe(false); // the key that started it over was remembered right
    expect(isSecret.cachedVerdicts).toBe(known.length + 1);
  });

  test('names of Object.prototype members are ordinary keys, remembered like any other', () => {
    const isSecret = createKeyMatcher({});
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    for (let round = 0; round < 2; round++) for (const n of names) expect(isSecret(n)).toBe(false);
    expect(isSecret('__proto___token')).toBe(true);
    expect(isSecret.cachedVerdicts).toBe(names.length + 1);
  });

  test('a redactor fed objects with 30 000 distinct attribute names still redacts every secret', () => {
    const r = createRedactor();
    let leaked = 0;
    let kept = 0;
    let seen = 0;
    for (let batch = 0; batch < 75; batch++) {
      const obj: Record<string, string> = {};
      for (let j = 0; j < 400; j++) obj[hostileKey(batch * 400 + j)] = `value-${j}`;
      obj.password = 'hunter2';
      const out = r.redact(obj) as Record<string, string>;
      for (const [k, v] of Object.entries(out)) {
        seen++;
        const secret = k === 'password' || k.endsWith('_token');
        if (secret && v !== REDACTED) leaked++;
        if (!secret && v === REDACTED) kept++;
      }
    }
    expect([seen, leaked, kept]).toEqual([75 * 401, 0, 0]);
  });
});
