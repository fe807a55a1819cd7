// Issue 21 (mutation testing): name validation and escaping, each rule on its own.
import { createMetrics, InvalidLabelNameError, InvalidMetricNameError } from '../src';

const metrics = () => createMetrics({ collectDefaultMetrics: false });

describe('metric names', () => {
  test.each(['a', '_x', ':rule:name', 'Abc_09:z', 'x1'])('%s is accepted', (name) => {
    expect(() => metrics().gauge({ name, help: 'h' })).not.toThrow();
  });

  test.each(['', '1abc', 'a-b', 'a b', 'é', 'a.b', 'name\n'])('%j is refused', (name) => {
    expect(() => metrics().gauge({ name, help: 'h' })).toThrow(InvalidMetricNameError);
  });
});

describe('label names', () => {
  const refused = (labelNames: string[], kind: 'gauge' | 'histogram' | 'summary' = 'gauge') => {
    try {
      metrics()[kind]({ name: 'm', help: 'h', labelNames });
    } catch (err) {
      return err as InvalidLabelNameError;
    }
    return undefined;
  };

  test('valid names pass, including le/quantile outside histograms/summaries', () => {
    expect(refused(['a', '_b', 'C9', 'le', 'quantile'])).toBeUndefined();
    expect(refused(['quantile'], 'histogram')).toBeUndefined();
    expect(refused(['le'], 'summary')).toBeUndefined();
  });

  test.each([
    [['a-b'], 'a-b', 'must match [a-zA-Z_][a-zA-Z0-9_]*'],
    [['9a'], '9a', 'must match [a-zA-Z_][a-zA-Z0-9_]*'],
    [['a:b'], 'a:b', 'must match [a-zA-Z_][a-zA-Z0-9_]*'],
    [['ok', ''], '', 'must match [a-zA-Z_][a-zA-Z0-9_]*'],
    [['__name'], '__name', 'names starting with "__" are reserved by Prometheus'],
    [['a', 'b', 'a'], 'a', 'duplicated'],
  ])('%j is refused naming %j', (labelNames, label, reason) => {
    const err = refused(labelNames);
    expect(err).toBeInstanceOf(InvalidLabelNameError);
    expect(err?.label).toBe(label);
    expect(err?.message).toBe(`metric m: invalid label name "${label}": ${reason}`);
  });

  test('a single leading underscore is fine, a double one is reserved', () => {
    expect(refused(['_a'])).toBeUndefined();
    expect(refused(['__'])?.message).toContain('reserved by Prometheus');
  });

  test('le is reserved for histograms and quantile for summaries', () => {
    expect(refused(['route', 'le'], 'histogram')?.message).toBe(
      'metric m: invalid label name "le": "le" is reserved for this metric type',
    );
    expect(refused(['quantile'], 'summary')?.message).toBe(
      'metric m: invalid label name "quantile": "quantile" is reserved for this metric type',
    );
  });
});

describe('escaping in the exposition', () => {
  test.each([
    ['plain', 'plain'],
    ['"', '\\"'],
    ['\\', '\\\\'],
    ['\n', '\\n'],
    ['a"b"c', 'a\\"b\\"c'],
    ['\\n', '\\\\n'],
    ['tab\there', 'tab\there'],
  ])('label value %j is written as %j in both formats', async (value, written) => {
    const m = metrics();
    m.gauge({ name: 'esc', help: 'h', labelNames: ['v', 'w'] as const }).set({ v: value, w: 'x' }, 1);
    for (const accept of [undefined, 'application/openmetrics-text']) {
      expect((await m.expose(accept)).body).toContain(`esc{v="${written}",w="x"} 1\n`);
    }
  });

  test('HELP: text 0.0.4 keeps double quotes, OpenMetrics escapes them', async () => {
    const m = metrics();
    m.gauge({ name: 'helpy', help: 'say "hi" \\ bye\nnow' }).set(1);
    expect((await m.expose()).body).toContain('# HELP helpy say "hi" \\\\ bye\\nnow\n');
    expect((await m.expose('application/openmetrics-text')).body).toContain(
      '# HELP helpy say \\"hi\\" \\\\ bye\\nnow\n',
    );
  });

  test('special values: +Inf, -Inf, NaN and decimals', async () => {
    const m = metrics();
    const g = m.gauge({ name: 'vals', help: 'h', labelNames: ['k'] as const });
    g.set({ k: 'pinf' }, Infinity);
    g.set({ k: 'ninf' }, -Infinity);
    g.set({ k: 'nan' }, NaN);
    g.set({ k: 'dec' }, 0.25);
    const { body } = await m.expose();
    expect(body).toContain('vals{k="pinf"} +Inf\n');
    expect(body).toContain('vals{k="ninf"} -Inf\n');
    expect(body).toContain('vals{k="nan"} NaN\n');
    expect(body).toContain('vals{k="dec"} 0.25\n');
  });
});
