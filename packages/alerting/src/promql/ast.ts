// The PromQL subset as a syntax tree, and its canonical printer. `print(parse(s))` is PromQL that
// Prometheus reads with the same meaning, so a rule can be exported verbatim or canonicalised.

export type MatchOp = '=' | '!=' | '=~' | '!~';
export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
}

export interface NumberLiteral {
  type: 'number';
  value: number;
}

export interface VectorSelector {
  type: 'selector';
  /** Metric name (may be '' when only `{__name__=…}` style matchers are given: not supported). */
  name: string;
  matchers: LabelMatcher[];
  /** Range in ms for a range selector (`[5m]`); undefined for an instant selector. */
  rangeMs?: number;
}

export const RANGE_FUNCTIONS = [
  'rate',
  'increase',
  'delta',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'quantile_over_time',
] as const;
export const FUNCTIONS = [...RANGE_FUNCTIONS, 'histogram_quantile', 'abs'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

export interface Call {
  type: 'call';
  func: FunctionName;
  args: Expr[];
}

export const AGGREGATIONS = ['sum', 'avg', 'min', 'max', 'count'] as const;
export type AggregationOp = (typeof AGGREGATIONS)[number];

export interface Aggregation {
  type: 'aggregate';
  op: AggregationOp;
  /** Label names of `by (…)` / `without (…)`; empty with `without: false` aggregates everything. */
  grouping: string[];
  without: boolean;
  expr: Expr;
}

export type ArithmeticOp = '+' | '-' | '*' | '/';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type BinaryOp = ArithmeticOp | ComparisonOp;

export interface VectorMatching {
  /** `on(…)` when true, `ignoring(…)` when false. */
  on: boolean;
  labels: string[];
}

export interface Binary {
  type: 'binary';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  matching?: VectorMatching;
}

/** Parentheses are syntax only: the tree's shape carries them, and `print` writes them where needed. */
export type Expr = NumberLiteral | VectorSelector | Call | Aggregation | Binary;

const PRECEDENCE: Record<BinaryOp, number> = {
  '==': 1,
  '!=': 1,
  '>': 1,
  '<': 1,
  '>=': 1,
  '<=': 1,
  '+': 2,
  '-': 2,
  '*': 3,
  '/': 3,
};

export function precedence(op: BinaryOp): number {
  return PRECEDENCE[op];
}

export function isComparison(op: BinaryOp): op is ComparisonOp {
  return PRECEDENCE[op] === 1;
}

/** Go's strconv.Quote-compatible enough for label values: a double-quoted JSON string. */
function quote(value: string): string {
  return JSON.stringify(value);
}

/** Durations as PromQL writes them: the largest units that divide the value exactly (1h30m, 90s, 250ms). */
export function formatDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  let rest = ms;
  let out = '';
  for (const [unit, size] of units) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out === '' ? '0s' : out;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/** Canonical PromQL text of an expression. */
export function print(expr: Expr): string {
  switch (expr.type) {
    case 'number':
      return formatNumber(expr.value);
    case 'selector': {
      const m = expr.matchers.map((x) => `${x.name}${x.op}${quote(x.value)}`).join(', ');
      const sel = m === '' ? expr.name : `${expr.name}{${m}}`;
      return expr.rangeMs === undefined ? sel : `${sel}[${formatDuration(expr.rangeMs)}]`;
    }
    case 'call':
      return `${expr.func}(${expr.args.map(print).join(', ')})`;
    case 'aggregate': {
      const grouping =
        expr.grouping.length === 0 && !expr.without
          ? ''
          : ` ${expr.without ? 'without' : 'by'} (${expr.grouping.join(', ')})`;
      return `${expr.op}${grouping} (${print(expr.expr)})`;
    }
    case 'binary': {
      const matching =
        expr.matching === undefined
          ? ''
          : ` ${expr.matching.on ? 'on' : 'ignoring'} (${expr.matching.labels.join(', ')})`;
      return `${printOperand(expr.lhs, expr.op, false)} ${expr.op}${matching} ${printOperand(expr.rhs, expr.op, true)}`;
    }
  }
}

/** Adds parentheses where the tree's shape differs from what precedence and left-associativity give. */
function printOperand(e: Expr, parentOp: BinaryOp, right: boolean): string {
  const text = print(e);
  if (e.type !== 'binary') return text;
  const p = precedence(e.op);
  const q = precedence(parentOp);
  return p < q || (right && p === q) ? `(${text})` : text;
}
