// Evaluates a parsed expression at one instant over a SeriesSource with Prometheus 2.x semantics:
// instant selectors take the latest sample within the 5 m lookback, range selectors the samples
// in [t - range, t]; functions drop the metric name; arithmetic matches series one-to-one on all
// labels but the name (or on/ignoring); comparisons with a number filter.
import { AlertingError } from '../errors';
import type { SeriesSource, SourceSeries } from '../source';
import type { Aggregation, Binary, Call, Expr, LabelMatcher, VectorSelector } from './ast';
import { print } from './ast';
import { isComparison } from './ast';
import { bucketQuantile, extrapolatedRate, overTime, type Bucket } from './functions';

export type Labels = Readonly<Record<string, string>>;
export interface Sample {
  labels: Labels;
  value: number;
}
export type Vector = Sample[];

export const LOOKBACK_MS = 300_000;

export interface EvalContext {
  source: SeriesSource;
  /** Evaluation time, ms. */
  time: number;
  /** Per-evaluation cache of selected series by metric name (shared by the rules of one evaluation). */
  cache?: Map<string, SourceSeries[]>;
  /** Per-evaluation results of function calls and aggregations by their text, shared by rules that repeat them (tiers of one ratio). */
  memo?: Map<string, Vector>;
  /** How far back the cache reaches per metric name (the largest range or lookback that reads it). */
  reachByName?: ReadonlyMap<string, number>;
}

function matchesOne(value: string, m: LabelMatcher, re: RegExp | undefined): boolean {
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return re!.test(value);
    case '!~':
      return !re!.test(value);
  }
}

const regexCache = new Map<string, RegExp>();
function regexOf(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    re = new RegExp(`^(?:${pattern})$`, 's');
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

function selectSeries(sel: VectorSelector, ctx: EvalContext, fromMs: number): SourceSeries[] {
  let all: SourceSeries[];
  const reach = ctx.reachByName?.get(sel.name);
  if (ctx.cache !== undefined && reach !== undefined && ctx.time - reach <= fromMs) {
    let hit = ctx.cache.get(sel.name);
    if (hit === undefined) ctx.cache.set(sel.name, (hit = ctx.source.select(sel.name, ctx.time - reach, ctx.time)));
    all = hit;
  } else all = ctx.source.select(sel.name, fromMs, ctx.time);
  const res = sel.matchers.map((m) => (m.op === '=~' || m.op === '!~' ? regexOf(m.value) : undefined));
  return all.filter((s) => sel.matchers.every((m, k) => matchesOne(s.labels[m.name] ?? '', m, res[k])));
}

/** First index whose time is > t, or >= t when `inclusive` (binary search). */
function bound(times: Float64Array, t: number, inclusive: boolean): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < t || (!inclusive && times[mid] === t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Samples of one series within [from, to], as views (no copy). */
function windowOf(s: SourceSeries, from: number, to: number): { times: Float64Array; values: Float64Array } {
  const a = bound(s.times, from, true);
  const b = bound(s.times, to, false);
  return { times: s.times.subarray(a, b), values: s.values.subarray(a, b) };
}

function instant(sel: VectorSelector, ctx: EvalContext): Vector {
  const from = ctx.time - LOOKBACK_MS;
  const out: Vector = [];
  for (const s of selectSeries(sel, ctx, from)) {
    for (let i = s.times.length - 1; i >= 0; i--) {
      const t = s.times[i];
      if (t > ctx.time) continue;
      if (t >= from) out.push({ labels: s.labels, value: s.values[i] });
      break;
    }
  }
  return out;
}

const nameless = new WeakMap<Labels, Labels>();

/** The labels without `__name__`; one object per label set (cached), so later caches hit too. */
function withoutName(labels: Labels): Labels {
  if (!('__name__' in labels)) return labels;
  let rest = nameless.get(labels);
  if (rest === undefined) {
    const { __name__: _drop, ...copy } = labels;
    void _drop;
    nameless.set(labels, (rest = copy));
  }
  return rest;
}

function rangeFunction(call: Call, ctx: EvalContext): Vector {
  const sel = call.args[call.args.length - 1] as VectorSelector;
  const rangeMs = sel.rangeMs!;
  const from = ctx.time - rangeMs;
  const q = call.func === 'quantile_over_time' ? (call.args[0] as { value: number }).value : 0;
  const out: Vector = [];
  for (const s of selectSeries(sel, ctx, from)) {
    const w = windowOf(s, from, ctx.time);
    let v: number | undefined;
    if (call.func === 'rate' || call.func === 'increase' || call.func === 'delta')
      v = extrapolatedRate(w.times, w.values, from, ctx.time, call.func !== 'delta', call.func === 'rate');
    else v = overTime(call.func, w.values, q);
    if (v !== undefined) out.push({ labels: withoutName(s.labels), value: v });
  }
  return out;
}

const leless = new WeakMap<Labels, Labels>();

function withoutLe(labels: Labels): Labels {
  let rest = leless.get(labels);
  if (rest === undefined) {
    const { le: _le, ...copy } = withoutName(labels);
    void _le;
    leless.set(labels, (rest = copy));
  }
  return rest;
}

function histogramQuantile(call: Call, ctx: EvalContext): Vector {
  const q = (call.args[0] as { value: number }).value;
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const s of evalVector(call.args[1], ctx)) {
    const le = s.labels.le;
    if (le === undefined) continue;
    const upperBound = le === '+Inf' ? Infinity : Number(le);
    if (Number.isNaN(upperBound)) continue;
    const rest = withoutLe(s.labels);
    const key = signature(rest);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { labels: rest, buckets: [] }));
    g.buckets.push({ upperBound, count: s.value });
  }
  return [...groups.values()].map((g) => ({ labels: g.labels, value: bucketQuantile(q, g.buckets) }));
}

const signatures = new WeakMap<Labels, Map<readonly string[] | undefined, string>>();
const ALL: readonly string[] = [];

/** Key of the labels restricted to `keep` (or all but `drop`), `__name__` excluded; cached per label set and grouping. */
export function signature(labels: Labels, keep?: readonly string[], drop?: readonly string[]): string {
  if (keep !== undefined && drop !== undefined) return computeSignature(labels, keep, drop);
  const spec = keep ?? drop ?? ALL;
  let byLabels = signatures.get(labels);
  if (byLabels === undefined) signatures.set(labels, (byLabels = new Map()));
  let key = byLabels.get(spec);
  if (key === undefined) byLabels.set(spec, (key = computeSignature(labels, keep, drop)));
  return key;
}

function computeSignature(labels: Labels, keep?: readonly string[], drop?: readonly string[]): string {
  const names = Object.keys(labels).sort();
  let key = '';
  for (const k of names) {
    if (k === '__name__' || (keep !== undefined && !keep.includes(k)) || (drop !== undefined && drop.includes(k)))
      continue;
    const v = labels[k];
    // Length-prefixed: injective whatever the values contain.
    key += `${k.length}:${k}${v.length}:${v}`;
  }
  return key;
}

function pick(labels: Labels, keep?: readonly string[], drop?: readonly string[]): Labels {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels))
    if (k !== '__name__' && (keep === undefined || keep.includes(k)) && !(drop ?? []).includes(k)) out[k] = labels[k];
  return out;
}

const internedLabels = new WeakMap<Aggregation, Map<string, Labels>>();

/**
 * One label object per output group of an aggregation node across evaluations, so that alert
 * identities (and the other per-label-set caches) hit. Bounded: cleared past 10 000 groups.
 */
function interned(
  node: Aggregation,
  key: string,
  labels: Labels,
  keep?: readonly string[],
  drop?: readonly string[],
): Labels {
  let byKey = internedLabels.get(node);
  if (byKey === undefined) internedLabels.set(node, (byKey = new Map()));
  let out = byKey.get(key);
  if (out === undefined) {
    if (byKey.size >= 10_000) byKey.clear();
    byKey.set(key, (out = pick(labels, keep, drop)));
  }
  return out;
}

function aggregate(node: Aggregation, ctx: EvalContext): Vector {
  const input = evalVector(node.expr, ctx);
  const keep = node.without ? undefined : node.grouping;
  const drop = node.without ? node.grouping : undefined;
  const groups = new Map<string, { labels: Labels; sum: number; count: number; min: number; max: number }>();
  for (const s of input) {
    const key = signature(s.labels, keep, drop);
    let g = groups.get(key);
    if (g === undefined)
      groups.set(
        key,
        (g = { labels: interned(node, key, s.labels, keep, drop), sum: 0, count: 0, min: s.value, max: s.value }),
      );
    g.sum += s.value;
    g.count++;
    if (s.value < g.min || Number.isNaN(g.min)) g.min = s.value;
    if (s.value > g.max || Number.isNaN(g.max)) g.max = s.value;
  }
  return [...groups.values()].map((g) => {
    const value =
      node.op === 'sum'
        ? g.sum
        : node.op === 'avg'
          ? g.sum / g.count
          : node.op === 'count'
            ? g.count
            : node[`op`] === 'min'
              ? g.min
              : g.max;
    return { labels: g.labels, value };
  });
}

function arith(op: string, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    default:
      return a / b;
  }
}

function compare(op: string, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    default:
      return a <= b;
  }
}

function vectorScalar(node: Binary, vec: Vector, scalar: number, scalarLeft: boolean): Vector {
  const out: Vector = [];
  for (const s of vec) {
    const [a, b] = scalarLeft ? [scalar, s.value] : [s.value, scalar];
    if (isComparison(node.op)) {
      if (compare(node.op, a, b)) out.push(s);
    } else out.push({ labels: withoutName(s.labels), value: arith(node.op, a, b) });
  }
  return out;
}

function vectorVector(node: Binary, lhs: Vector, rhs: Vector): Vector {
  const m = node.matching;
  const keep = m?.on ? m.labels : undefined;
  const drop = m !== undefined && !m.on ? m.labels : undefined;
  const right = new Map<string, Sample>();
  for (const s of rhs) {
    const key = signature(s.labels, keep, drop);
    if (right.has(key))
      throw new AlertingError(
        'ERR_ALERTING_RULE',
        `many-to-many matching not allowed: duplicate series on the right side of ${node.op}`,
      );
    right.set(key, s);
  }
  const out: Vector = [];
  const seen = new Set<string>();
  for (const l of lhs) {
    const r = right.get(signature(l.labels, keep, drop));
    if (r === undefined) continue;
    let labels: Labels = isComparison(node.op) ? l.labels : withoutName(l.labels);
    if (m !== undefined)
      labels = { ...(labels.__name__ !== undefined ? { __name__: labels.__name__ } : {}), ...pick(labels, keep, drop) };
    const result = signature(labels) + (labels.__name__ ?? '');
    if (seen.has(result))
      throw new AlertingError(
        'ERR_ALERTING_RULE',
        `multiple matches for labels ${result}: many-to-one matching must be explicit (group_left/group_right)`,
      );
    seen.add(result);
    if (isComparison(node.op)) {
      if (compare(node.op, l.value, r.value)) out.push({ labels, value: l.value });
    } else out.push({ labels, value: arith(node.op, l.value, r.value) });
  }
  return out;
}

function evalScalar(e: Expr): number {
  if (e.type === 'number') return e.value;
  if (e.type === 'binary') return arith(e.op, evalScalar(e.lhs), evalScalar(e.rhs));
  throw new AlertingError('ERR_ALERTING_RULE', `expected a number, got ${e.type}`);
}

function isScalar(e: Expr): boolean {
  return e.type === 'number' || (e.type === 'binary' && isScalar(e.lhs) && isScalar(e.rhs));
}

const texts = new WeakMap<Expr, string>();

/** Evaluates an expression of instant-vector type at ctx.time. */
export function evalVector(e: Expr, ctx: EvalContext): Vector {
  if (ctx.memo === undefined || (e.type !== 'call' && e.type !== 'aggregate')) return evalNode(e, ctx);
  let text = texts.get(e);
  if (text === undefined) texts.set(e, (text = print(e)));
  let v = ctx.memo.get(text);
  if (v === undefined) ctx.memo.set(text, (v = evalNode(e, ctx)));
  return v;
}

function evalNode(e: Expr, ctx: EvalContext): Vector {
  switch (e.type) {
    case 'selector':
      return instant(e, ctx);
    case 'call':
      if (e.func === 'histogram_quantile') return histogramQuantile(e, ctx);
      if (e.func === 'abs')
        return evalVector(e.args[0], ctx).map((s) => ({ labels: withoutName(s.labels), value: Math.abs(s.value) }));
      return rangeFunction(e, ctx);
    case 'aggregate':
      return aggregate(e, ctx);
    case 'binary': {
      if (isScalar(e.lhs)) return vectorScalar(e, evalVector(e.rhs, ctx), evalScalar(e.lhs), true);
      if (isScalar(e.rhs)) return vectorScalar(e, evalVector(e.lhs, ctx), evalScalar(e.rhs), false);
      return vectorVector(e, evalVector(e.lhs, ctx), evalVector(e.rhs, ctx));
    }
    case 'number':
      throw new AlertingError('ERR_ALERTING_RULE', 'expected an instant vector, got a number');
  }
}

/** The longest time back an expression reads (range or lookback), for cache sizing. */
export function reachMs(e: Expr): number {
  switch (e.type) {
    case 'number':
      return 0;
    case 'selector':
      return e.rangeMs ?? LOOKBACK_MS;
    case 'call':
      return Math.max(...e.args.map(reachMs));
    case 'aggregate':
      return reachMs(e.expr);
    case 'binary':
      return Math.max(reachMs(e.lhs), reachMs(e.rhs));
  }
}

/** For each metric name the expression selects, how far back it reads (range or lookback). */
export function reachByName(e: Expr, out = new Map<string, number>()): Map<string, number> {
  if (e.type === 'selector') out.set(e.name, Math.max(out.get(e.name) ?? 0, e.rangeMs ?? LOOKBACK_MS));
  else if (e.type === 'call') e.args.forEach((a) => reachByName(a, out));
  else if (e.type === 'aggregate') reachByName(e.expr, out);
  else if (e.type === 'binary') {
    reachByName(e.lhs, out);
    reachByName(e.rhs, out);
  }
  return out;
}

/** Metric names the expression selects. */
export function selectedNames(e: Expr, out = new Set<string>()): Set<string> {
  if (e.type === 'selector') out.add(e.name);
  else if (e.type === 'call') e.args.forEach((a) => selectedNames(a, out));
  else if (e.type === 'aggregate') selectedNames(e.expr, out);
  else if (e.type === 'binary') {
    selectedNames(e.lhs, out);
    selectedNames(e.rhs, out);
  }
  return out;
}
