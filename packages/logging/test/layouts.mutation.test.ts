// Issue 21 (mutation testing): terminal escaping (every unsafe range, and the characters just
// outside it) and the pretty layout, byte for byte.
import { toPretty } from '../src';
import type { LogRecord } from '../src/record';

const TIME = Date.UTC(2026, 0, 2, 3, 4, 5, 67);

function record(extra: Partial<LogRecord> = {}): LogRecord {
  return { time: TIME, level: 'info', message: 'hello', service: 'svc', attributes: {}, ...extra };
}

const pretty = (extra: Partial<LogRecord>) => toPretty(record(extra), false);

describe('escapeControls through the pretty layout', () => {
  test.each([
    ['\n', '\\n'],
    ['\r', '\\r'],
    ['\t', '\\t'],
    ['\u0000', '\\u0000'],
    ['\u0007', '\\u0007'],
    ['\u001b', '\\u001b'],
    ['\u001f', '\\u001f'],
    ['\u007f', '\\u007f'],
    ['\u0085', '\\u0085'],
    ['\u009f', '\\u009f'],
    ['\u200e', '\\u200e'],
    ['\u200f', '\\u200f'],
    ['\u2028', '\\u2028'],
    ['\u2029', '\\u2029'],
    ['\u202a', '\\u202a'],
    ['\u202e', '\\u202e'],
    ['\u2066', '\\u2066'],
    ['\u2069', '\\u2069'],
  ])('%j in a message is written as %s', (ch, escaped) => {
    expect(pretty({ message: `a${ch}b${ch}c` })).toBe(`03:04:05.067 INFO  [svc] a${escaped}b${escaped}c`);
  });

  test.each([' ', '~', '\u00a0', 'é', '\u200d', '\u2010', '\u2027', '\u202f', '\u2065', '\u206a', '😀'])(
    '%j is kept as is',
    (ch) => {
      expect(pretty({ message: `a${ch}b` })).toBe(`03:04:05.067 INFO  [svc] a${ch}b`);
    },
  );

  test('service, logger, field names and values, error chain and trace are escaped too', () => {
    const line = pretty({
      service: 's\u001b[2J',
      logger: 'l\n',
      message: 'm',
      attributes: {
        'k\r': 'v\u009b',
        plain: 'x',
        spaced: 'a b',
        empty: '',
        quoted: 'say "hi"',
        n: 3,
        o: { a: '\u2028' },
      },
      error: { type: 'Err\n', message: 'boom\u001b', cause: { type: 'Inner', message: 'why' } } as LogRecord['error'],
      traceId: 't\u2066',
      spanId: 'sp',
    });
    expect(line).toBe(
      '03:04:05.067 INFO  [s\\u001b[2J/l\\n] m k\\r=v\\u009b plain=x spaced="a b" empty="" quoted="say \\"hi\\""' +
        ' n=3 o={"a":"\\u2028"} err="Err\\n: boom\\u001b <- Inner: why" trace=t\\u2066 span=sp',
    );
  });

  test('levels are padded to five columns and colored only when asked', () => {
    expect(toPretty(record({ level: 'warn' }), false)).toBe('03:04:05.067 WARN  [svc] hello');
    expect(toPretty(record({ level: 'error' }), false)).toBe('03:04:05.067 ERROR [svc] hello');
    expect(toPretty(record({ level: 'warn' }), true)).toBe(
      '\x1b[2m03:04:05.067\x1b[0m \x1b[33mWARN \x1b[0m \x1b[2m[svc]\x1b[0m hello',
    );
  });
});
