import fc from 'fast-check';
import { parse, print, PromQLSyntaxError, UnsupportedPromQLError, type Expr } from '../src';

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
  'group_left',
  'group_right',
  'atan2',
]);
const ident = fc
  .stringMatching(/^[a-z_][a-z0-9_]{0,8}$/)
  .filter(
    (s) =>
      !KEYWORDS.has(s.toLowerCase()) &&
      !/^(sum|avg|min|max|count|topk|bottomk|quantile|stddev|stdvar|count_values|group|limitk|limit_ratio)$/.test(s),
  );
const number = fc
  .oneof(
    fc.integer({ min: -1000, max: 1000 }),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }),
  )
  .map((n) => (Object.is(n, -0) ? 0 : n));
const matcher = fc
  .record({
    name: ident,
    op: fc.constantFrom('=', '!=', '=~', '!~') as fc.Arbitrary<'=' | '!=' | '=~' | '!~'>,
    value: fc.string({ maxLength: 12 }),
  })
  .map((m) => (m.op === '=~' || m.op === '!~' ? { ...m, value: m.value.replace(/[\\^$.|?*+()[\]{}]/g, '') } : m));
const selector = fc.record({
  type: fc.constant('selector' as const),
  name: ident,
  matchers: fc.array(matcher, { maxLength: 3 }),
});
const rangeMs = fc.integer({ min: 1, max: 10_000 }).map((n) => n * 1000);
const rangeSel = fc.tuple(selector, rangeMs).map(([s, r]) => ({ ...s, rangeMs: r }));

const { vector } = fc.letrec<{ vector: Expr }>((tie) => ({
  vector: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    selector,
    fc.record({
      type: fc.constant('call' as const),
      func: fc.constantFrom(
        'rate',
        'increase',
        'avg_over_time',
        'min_over_time',
        'max_over_time',
        'sum_over_time',
        'count_over_time',
        'delta',
      ) as fc.Arbitrary<'rate'>,
      args: rangeSel.map((r) => [r]),
    }),
    fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), rangeSel).map(([q, r]) => ({
      type: 'call' as const,
      func: 'quantile_over_time' as const,
      args: [{ type: 'number' as const, value: q }, r],
    })),
    fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), tie('vector')).map(([q, v]) => ({
      type: 'call' as const,
      func: 'histogram_quantile' as const,
      args: [{ type: 'number' as const, value: q }, v],
    })),
    fc.record({
      type: fc.constant('aggregate' as const),
      op: fc.constantFrom('sum', 'avg', 'min', 'max', 'count') as fc.Arbitrary<'sum'>,
      grouping: fc.array(ident, { maxLength: 3 }),
      without: fc.boolean(),
      expr: tie('vector'),
    }),
    fc.record({
      type: fc.constant('binary' as const),
      op: fc.constantFrom('+', '-', '*', '/', '>', '<', '>=', '<=', '==', '!=') as fc.Arbitrary<'+'>,
      lhs: tie('vector'),
      rhs: fc.oneof(
        tie('vector'),
        number.map((value) => ({ type: 'number' as const, value })),
      ),
    }),
    fc.record({
      type: fc.constant('binary' as const),
      op: fc.constantFrom('+', '/', '>') as fc.Arbitrary<'+'>,
      lhs: tie('vector'),
      rhs: tie('vector'),
      matching: fc.record({ on: fc.boolean(), labels: fc.array(ident, { maxLength: 2 }) }),
    }),
  ),
}));

describe('PromQL subset parser', () => {
  it('parse(print(ast)) gives the same tree back', () => {
    fc.assert(
      fc.property(vector, (ast) => {
        expect(parse(print(ast))).toEqual(ast);
      }),
      { numRuns: 400 },
    );
  });

  it('reads the expressions alert rules use', () => {
    expect(
      print(
        parse(
          'sum by (route) (rate(http_requests_total{code=~"5..", job!="x"}[5m])) / sum by (route) (rate(http_requests_total[5m])) > 0.05',
        ),
      ),
    ).toBe(
      'sum by (route) (rate(http_requests_total{code=~"5..", job!="x"}[5m])) / sum by (route) (rate(http_requests_total[5m])) > 0.05',
    );
    expect(parse('histogram_quantile(0.99, sum by (le) (rate(lat_seconds_bucket[10m]))) > 2')).toMatchObject({
      type: 'binary',
      op: '>',
      lhs: { type: 'call', func: 'histogram_quantile' },
    });
    expect(print(parse('a - b - c'))).toBe('a - b - c');
    expect(print(parse('a - (b - c)'))).toBe('a - (b - c)');
    expect(print(parse('(a + b) * 2'))).toBe('(a + b) * 2');
    expect(parse("x{a='q\\'s'}[1h30m]")).toEqual({
      type: 'selector',
      name: 'x',
      matchers: [{ name: 'a', op: '=', value: "q's" }],
      rangeMs: 5_400_000,
    });
  });

  it.each([
    ['irate(x[5m])', 'function irate'],
    ['rate(x[5m] offset 1m)', 'offset modifier'],
    ['x offset 5m > 1', 'offset modifier'],
    ['x @ 100', '@ modifier'],
    ['rate(x[5m:1m])', 'subquery'],
    ['topk(3, x)', 'aggregation topk'],
    ['x > bool 1', 'bool modifier'],
    ['a / on(x) group_left b', 'group_left (many-to-one matching)'],
    ['a and b', 'operator and'],
    ['a % 2', 'operator %'],
    ['-x', 'unary minus on an expression'],
    ['{job="a"}', 'selector without a metric name'],
    ['label_replace(x, "a", "b", "c", "d")', 'function label_replace'],
  ])('names the unsupported construct in %s', (expr, construct) => {
    let caught: unknown;
    try {
      parse(expr);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnsupportedPromQLError);
    expect((caught as UnsupportedPromQLError).construct).toBe(construct);
    expect((caught as UnsupportedPromQLError).code).toBe('ERR_ALERTING_UNSUPPORTED');
  });

  it.each(['rate(x)', 'x > ', 'x{a=1}', 'sum(x[5m])', '1 > 2', 'x[5m] > 1', 'x{a=~"("}', '"unterminated', ')'])(
    'rejects %s with a syntax error',
    (expr) => {
      expect(() => parse(expr)).toThrow(PromQLSyntaxError);
    },
  );

  it('bounds input length and nesting depth', () => {
    expect(() => parse('x + '.repeat(2000) + 'x')).toThrow(/longer than 4096/);
    expect(() => parse('('.repeat(100) + 'x' + ')'.repeat(100))).toThrow(/nested deeper than 64/);
    expect(() => parse('-'.repeat(1000) + '1')).toThrow(/nested deeper than 64/);
  });

  it('garbage never throws anything but the typed errors', () => {
    const alphabet = fc.constantFrom(
      ...'abc_:{}[]()=!~<>+-*/^%@,."\'`\\ 0123456789mshby'.split(''),
      'sum',
      'rate',
      'by',
      'on',
      'offset',
      '[5m]',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.array(alphabet, { maxLength: 40 }).map((a) => a.join('')),
        ),
        (text) => {
          try {
            parse(text);
          } catch (err) {
            expect(err instanceof PromQLSyntaxError || err instanceof UnsupportedPromQLError).toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
