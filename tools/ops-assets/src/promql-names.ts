// The series names a full PromQL expression reads (selectors), for checking them against the
// registered metrics. A small scanner, not a parser: it skips strings, label matchers, durations,
// grouping clauses, function names and keywords; every other identifier is a metric name.
const AGGREGATIONS = [
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
];
const KEYWORDS = new Set([
  ...AGGREGATIONS,
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
]);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/** Metric names selected by `expr`, in order of first appearance. */
export function selectedMetricNames(expr: string): string[] {
  const names: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < expr.length && /\s/.test(expr[i])) i++;
  };
  const skipTo = (close: string) => {
    while (i < expr.length && expr[i] !== close) {
      if (expr[i] === '"' || expr[i] === "'") skipString();
      else i++;
    }
    i++;
  };
  const skipString = () => {
    const quote = expr[i++];
    while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' ? 2 : 1;
    i++;
  };
  while (i < expr.length) {
    const c = expr[i];
    if (c === '"' || c === "'") skipString();
    else if (c === '{') skipTo('}');
    else if (c === '[') skipTo(']');
    else if (/[a-zA-Z_:]/.test(c)) {
      const start = i;
      while (i < expr.length && /[a-zA-Z0-9_:]/.test(expr[i])) i++;
      const word = expr.slice(start, i);
      skipSpace();
      if (GROUPING.has(word.toLowerCase())) {
        if (expr[i] === '(') skipTo(')');
      } else if (expr[i] === '(' || KEYWORDS.has(word.toLowerCase())) {
        // a function or aggregation name, or a keyword
      } else if (!names.includes(word)) names.push(word);
    } else if (/[0-9.]/.test(c)) {
      while (i < expr.length && /[0-9a-zA-Z.+]/.test(expr[i]) && !(expr[i] === '+' && !/[eE]/.test(expr[i - 1]))) i++;
    } else i++;
  }
  return names;
}
