// Issue 21 (mutation testing): the redactUrl edge cases the mutants showed untested.
import { redactString, redactUrl } from '@periscope/core';

describe('redactUrl edge cases', () => {
  test('null options fall back to the masked form', () => {
    expect(redactUrl('redis://u:pw@h:6379/0', null as never)).toBe('redis://u:[REDACTED]@h:6379/0');
  });

  test('the output is cut at 8192 characters (after redaction), never before', () => {
    const base = 'https://u:pw@h/';
    const exact = base + 'a'.repeat(8192 - 'https://u:[REDACTED]@h/'.length);
    expect(redactUrl(exact)).toBe(exact.replace(':pw@', ':[REDACTED]@'));
    expect(redactUrl(exact).length).toBe(8192);
    const long = exact + 'bbbb';
    const out = redactUrl(long);
    expect(out).toBe(`${long.replace(':pw@', ':[REDACTED]@').slice(0, 8192)}…`);
    expect(out).not.toContain('pw');
  });

  test('a value whose toString throws gives a fixed placeholder, not an exception', () => {
    const hostile = {
      toString(): string {
        throw new Error('secret in the error');
      },
    };
    expect(redactUrl(hostile as never)).toBe('[unreadable URL]');
  });

  test('userinfo with only a user, or only a password', () => {
    expect(redactUrl('redis://alice@h/0')).toBe('redis://alice@h/0');
    expect(redactUrl('redis://:pw@h/0')).toBe('redis://:[REDACTED]@h/0');
    expect(redactUrl('redis://alice@h/0', { form: 'semconv' })).toBe('redis://REDACTED:REDACTED@h/0');
    expect(redactUrl('redis://:pw@h/0', { form: 'semconv' })).toBe('redis://REDACTED:REDACTED@h/0');
    expect(redactUrl('redis://h/0', { form: 'semconv' })).toBe('redis://h/0');
    expect(redactUrl('redis://h/0')).toBe('redis://h/0');
  });

  test('a URL that does not start the text, or has blanks in its host, is scrubbed as free text', () => {
    for (const text of ['url=redis://user:pw@host/0', 'redis://user:pw@my host/0']) {
      expect(redactUrl(text, { form: 'semconv' })).toBe(redactString(text));
      expect(redactUrl(text, { form: 'semconv' })).not.toContain('pw');
    }
  });

  test('no host: path, query and fragment right after //', () => {
    expect(redactUrl('file:///tmp/x', { form: 'origin' })).toBe('file://');
    expect(redactUrl('file:///tmp/x?sig=abc')).toBe('file:///tmp/x?sig=[REDACTED]');
    expect(redactUrl('https://h?code=abc123')).toBe('https://h?code=[REDACTED]');
    expect(redactUrl('https://h#frag')).toBe('https://h#frag');
    expect(redactUrl('https://h/p#frag', { form: 'no-credentials' })).toBe('https://h/p');
  });

  test('query parameters: bare flags are kept, percent-encoded secret names are recognized', () => {
    expect(redactUrl('https://h/p?tokenx&a=1')).toBe('https://h/p?tokenx&a=1');
    expect(redactUrl('https://h/p?api%5Fkey=xyz&pass%77ord=1&a=2')).toBe(
      'https://h/p?api%5Fkey=[REDACTED]&pass%77ord=[REDACTED]&a=2',
    );
    expect(redactUrl('https://h/p?%E0%A4%A=1&b=2')).toBe('https://h/p?%E0%A4%A=1&b=2');
  });
});
