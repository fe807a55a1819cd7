// Property-based: whatever a label value or help text holds (quotes, backslashes, newlines, any
// Unicode), each series stays on one line of the exposition and the value reads back exactly
// under the text format's escaping rules — in both formats.
import fc from 'fast-check';
import { createMetrics } from '../src';

/** Reads one label value back from `name{v="…"} 1` by the exposition format's own rules. */
function readLabel(line: string): string {
  const start = line.indexOf('{v="') + 4;
  let out = '';
  for (let i = start; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') {
      const next = line[++i];
      out += next === 'n' ? '\n' : next;
    } else if (c === '"') return out;
    else out += c;
  }
  throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
}

test('label values round-trip through the escaping and never break a line', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ maxLength: 40 }),
      async (value, help) => {
        for (const accept of ['text/plain', 'application/openmetrics-text']) {
          const m = createMetrics();
          m.counter({ name: 'p_total', help: help || 'h', labelNames: ['v'] as const }).inc({ v: value });
          const body = (await m.expose(accept)).body;
          const lines = body.split('\n').filter((l) => l.startsWith('p_total{'));
          expect(lines).toHaveLength(1);
          expect(readLabel(lines[0])).toBe(value);
          expect(lines[0]).toMatch(/\} 1(\.0)?$/);
          // HELP never spills onto a second line either.
          expect(body.split('\n').filter((l) => l.startsWith('# HELP p')).length).toBe(1);
          expect(body.split('\n').every((l) => l === '' || l.startsWith('#') || /^p_total(\{|\s)/.test(l))).toBe(true);
        }
      },
    ),
    { numRuns: 300 },
  );
});
