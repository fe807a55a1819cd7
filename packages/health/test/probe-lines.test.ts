// Property tests of the text probe lines: whatever a client puts in ?exclude= or a dependency puts
// in a check's output, each stays on one line with no control characters, and only real check
// names can appear as `[+]name` lines.
import fc from 'fast-check';
import { checkLine, escapeLine, excludedNames, exclusionLines } from '../src/probes';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const anyText = fc.string({ unit: 'binary', maxLength: 200 });

test('escapeLine output is one line without control or bidi characters', () => {
  fc.assert(
    fc.property(anyText, (text) => {
      const line = escapeLine(text);
      return !CONTROL.test(line);
    }),
  );
  expect(escapeLine('a\r\n\tb\u001b[31m')).toBe('a b\\u001b[31m');
});

test('?exclude= values never produce a line a reader could take for a check result', () => {
  const known = new Set(['db', 'cache']);
  fc.assert(
    fc.property(fc.array(anyText, { maxLength: 5 }), (values) => {
      const query = new URLSearchParams();
      for (const v of values) query.append('exclude', v);
      const lines = exclusionLines(excludedNames(query), (n) => known.has(n));
      const safe = (l: string) => !l.includes('\n') && !CONTROL.test(l);
      return lines.every((l) => safe(l) && (l.startsWith('warn: ') || /^\[\+\](db|cache) excluded: ok$/.test(l)));
    }),
  );
});

test('a failing check’s output stays on its own line', () => {
  fc.assert(
    fc.property(anyText, (output) => {
      const line = checkLine({
        name: 'db',
        critical: true,
        status: 'fail',
        observedValue: 1,
        output,
        time: '',
        durationMs: 1,
        componentType: 'datastore',
        key: 'db:responseTime',
      });
      return !line.includes('\n') && !CONTROL.test(line) && line.startsWith('[-]db failed');
    }),
  );
});
