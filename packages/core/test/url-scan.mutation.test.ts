// Issue 21 (mutation testing): URL passwords found in free text (redact/url-scan.ts), one case per
// rule of the scan: where a scheme starts, where a URL ends, which '@' ends the userinfo, and when
// an '@' after '/', '?' or '#' is in the path rather than the password.
import { createRedactor, redactString } from '@periscope/core';

const R = '[REDACTED]';

describe('URL passwords in free text', () => {
  test.each([
    // the scheme: letters, digits, '+', '.', '-' in any case, right before '://'
    ['pg+ssl.v-1://u:pw@h', `pg+ssl.v-1://u:${R}@h`],
    ['X9://u:pw@h', `X9://u:${R}@h`],
    ['1://u:pw@h', `1://u:${R}@h`],
    ['{x://u:pw@h', `{x://u:${R}@h`],
    [`${'a'.repeat(40)}://u:pw@h`, `${'a'.repeat(40)}://u:${R}@h`],
    // each kind of scheme character right before '://' (the edges of each range)
    ...['A', 'Z', 'a', 'z', '0', '9', 'x+', 'x.', 'x-'].map((s) => [`${s}://u:pw@h`, `${s}://u:${R}@h`]),
    ['HTTPS://user:pa/ss@h/x', `HTTPS://user:${R}@h/x`],
    // the scheme stops at a non-scheme character: '_https' or '{https' would not be a web scheme
    ['_https://example.com:8080/@me', '_https://example.com:8080/@me'],
    ['{https://example.com:8080/@me', '{https://example.com:8080/@me'],
    ['go to https://example.com:8080/@me now', 'go to https://example.com:8080/@me now'],
    // no scheme: not a URL (and the scan goes on after it)
    ['://user:pw@host', '://user:pw@host'],
    ['://x postgres://u:pw@h', `://x postgres://u:${R}@h`],
    ['!://u:pw@h', '!://u:pw@h'],
    ['x@://u:pw@h', 'x@://u:pw@h'],
    // the last '@' of the URL ends the userinfo, so a password may contain '@' and ':'
    ['postgres://u:p@ss@h/db', `postgres://u:${R}@h/db`],
    ['https://a:b:c@h', `https://a:${R}@h`],
    // no password, or an empty one: nothing to hide
    ['postgres://u:@h', 'postgres://u:@h'],
    ['postgres://u@h', 'postgres://u@h'],
    ['ssh://git@github.com:org/repo', 'ssh://git@github.com:org/repo'],
    // a URL ends at whitespace, a quote, a backtick or an angle bracket: a later '@' is not its own
    ['<postgres://u:pw@h>admin@x.com', `<postgres://u:${R}@h>admin@x.com`],
    ['"postgres://u:pw@h"a@b', `"postgres://u:${R}@h"a@b`],
    ["'postgres://u:pw@h'a@b", `'postgres://u:${R}@h'a@b`],
    ['`postgres://u:pw@h`a@b', `\`postgres://u:${R}@h\`a@b`],
    ['postgres://u:pw@h\tadmin:x@y', `postgres://u:${R}@h\tadmin:x@y`],
    ['postgres://u:pw@h\nadmin:x@y', `postgres://u:${R}@h\nadmin:x@y`],
    ['postgres://u:pw@h admin:x@y', `postgres://u:${R}@h admin:x@y`],
    ['postgres://u:pw@h<admin@x.com', `postgres://u:${R}@h<admin@x.com`],
    // a numeric password is a password, not a port
    ['https://u:123@h', `https://u:${R}@h`],
    // once a password is hidden up to the URL's last '@', nothing before that '@' is scanned again
    ['postgres://u:p@h/x?next=redis://:a@b', `postgres://u:${R}@b`],
    // several URLs, each on its own
    ['a postgres://u:p1@h1 and redis://:p2@h2 end', `a postgres://u:${R}@h1 and redis://:${R}@h2 end`],
    ['postgres://u:pw@h https://a.b/c@d redis://:z@q', `postgres://u:${R}@h https://a.b/c@d redis://:${R}@q`],
    // a URL inside another one's query string
    ['https://proxy/?target=postgres://u:pw@db/x', `https://proxy/?target=postgres://u:${R}@db/x`],
    // outside web schemes a password may hold '/', '?' or '#'
    ['redis://:pa/ss@h/0', `redis://:${R}@h/0`],
    ['redis://:pa?ss@h/0', `redis://:${R}@h/0`],
    ['redis://:pa#ss@h/0', `redis://:${R}@h/0`],
    ['ftp://host:21/a@b', `ftp://host:${R}@b`],
    // in web URLs, an '@' after a plain host[:port] and '/', '?' or '#' is in the path, query or fragment
    ['https://example.com/@me', 'https://example.com/@me'],
    ['HTTPS://example.com/@me', 'HTTPS://example.com/@me'],
    ['http://host/@x', 'http://host/@x'],
    ['ws://host/@x', 'ws://host/@x'],
    ['wss://host/@x', 'wss://host/@x'],
    ['https://host:8080/@me', 'https://host:8080/@me'],
    ['http://h:/x@y', 'http://h:/x@y'],
    ['https://[::1]:8080/x@y', 'https://[::1]:8080/x@y'],
    ['https://ex_a~m%20.com/@a', 'https://ex_a~m%20.com/@a'],
    ['https://h?email=a@b', 'https://h?email=a@b'],
    ['https://h#a@b', 'https://h#a@b'],
    ['https://h?x=a:b@c', 'https://h?x=a:b@c'],
    ['https://h#x:y@z', 'https://h#x:y@z'],
    ['https://a.b/c:d@e', 'https://a.b/c:d@e'],
    // ...but not when the text before the '/' cannot be a host[:port]: then it is a password
    ['https://user:pa/ss@h/x', `https://user:${R}@h/x`],
    ['https://user:pa?ss@h/x', `https://user:${R}@h/x`],
    ['https://a!b/p:q@h', `https://a!b/p:${R}@h`],
    ['https://ab!/p:q@h', `https://ab!/p:${R}@h`],
    ['https://host:80x/p:q@h', `https://host:${R}@h`],
  ])('%j → %j', (text, expected) => {
    expect(redactString(text)).toBe(expected);
  });

  test('the text around the URLs is kept byte for byte, and text without a password is returned as is', () => {
    const text = 'before «é» postgres://u:pw@h middle\tredis://:x@r\nafter';
    expect(redactString(text)).toBe(`before «é» postgres://u:${R}@h middle\tredis://:${R}@r\nafter`);
    const plain = 'see https://example.com/a@b and ftp://files/x for details';
    expect(redactString(plain)).toBe(plain);
  });

  test('a custom replacement goes where the password was', () => {
    const r = createRedactor({ replacement: '***' });
    expect(r.redactString('postgres://u:pw@h and redis://:p@q')).toBe('postgres://u:***@h and redis://:***@q');
  });
});
