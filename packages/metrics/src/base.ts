// The shared core of our metric types. Each metric implements prom-client's metric interface
// (name, help, type, aggregator, get(), reset()) so it lives in the same Registry as prom-client's
// own metrics; a series is a plain object whose fields are mutated in place, and a bound handle
// is the series itself, so a bound record call is a few property writes with no label hashing.
import { InvalidLabelValueError, InvalidValueError, MissingLabelError, UnknownLabelError } from './errors';
import type { BoundHistogram, LabelValues } from './types';
import { refreshTracingGlobals } from './exemplar';
import { escapeHelp, formatLabelPairs } from './labels';

export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary';

/** State shared by every metric of one Metrics object. */
export interface Shared {
  enabled: boolean;
  exemplars: boolean;
  maxSeries: number;
  defaultLabels: Readonly<Record<string, string>>;
  /** Called when a new label set is refused by the cardinality limit. */
  onOverflow(metric: string): void;
}

/** prom-client's `MetricValue` shape, as returned by `get()`. */
export interface PromValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  exemplar?: { labelSet: Record<string, string>; value: number; timestamp: number } | null;
}
/** prom-client's `MetricObjectWithValues` shape. */
export interface PromMetricObject {
  name: string;
  help: string;
  type: MetricKind;
  aggregator: 'sum';
  values: PromValue[];
}

export const OVERFLOW_VALUE = '__overflow__';

export abstract class SeriesBase {
  /** Label values (own labels only; default labels are added at exposition). */
  readonly labels: Readonly<Record<string, string>>;
  /** Escaped `a="x",b="y"` including default labels, for exposition; '' when none. */
  readonly labelStr: string;
  protected readonly shared: Shared;
  constructor(labels: Readonly<Record<string, string>>, labelStr: string, shared: Shared) {
    this.labels = labels;
    this.labelStr = labelStr;
    this.shared = shared;
  }
  abstract zero(): void;
}

export abstract class BaseMetric<S extends SeriesBase> {
  abstract readonly type: MetricKind;
  readonly aggregator = 'sum' as const;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly shared: Shared;
  /** Series in creation order (exposition order); never shrinks, so bound handles stay valid. */
  readonly list: S[] = [];
  /**
   * Series by label values, one Map level per label name in `labelNames` order, the series at the
   * last level. A lookup hashes each value on its own — label values are mostly literals, whose
   * hash V8 keeps — instead of building and hashing one key string per call (3-4x slower for a
   * 7-label GenAI histogram). At most maxSeries leaves, so at most (labels - 1) × maxSeries maps.
   */
  private readonly tree = new Map<string, unknown>();
  /** The one series of an unlabelled metric. */
  private unlabelled: S | undefined;
  private overflowSeries: S | undefined;
  /** Escaped default labels whose names the metric does not shadow. */
  private readonly defaultsStr: string;

  constructor(name: string, help: string, labelNames: readonly string[], shared: Shared) {
    this.name = name;
    this.help = help;
    this.labelNames = [...labelNames];
    this.shared = shared;
    this.defaultsStr = formatLabelPairs(Object.entries(shared.defaultLabels).filter(([k]) => !labelNames.includes(k)));
  }

  /** Unlabelled metrics have their one series from the start (exposed as 0, like prom-client). */
  protected init(): void {
    if (this.labelNames.length === 0) this.resolve({});
  }

  protected abstract createSeries(labels: Readonly<Record<string, string>>, labelStr: string): S;

  /** The series for a label object, validating it; new label sets beyond the limit share the overflow series. */
  resolve(labels: Readonly<Record<string, unknown>>): S {
    const names = this.labelNames;
    const n = names.length;
    let node: unknown = n === 0 ? this.unlabelled : this.tree;
    for (let i = 0; i < n && node !== undefined; i++) {
      const v = labels[names[i]];
      // Anything but a string or number is a miss here; create() says what is wrong with it.
      node = typeof v === 'string' || typeof v === 'number' ? (node as Map<string, unknown>).get('' + v) : undefined;
    }
    let count = 0;
    for (const k in labels) {
      count++;
      void k;
    }
    if (count === n && node !== undefined) return node as S;
    return this.create(labels);
  }

  /** resolve()'s slow path: validates the labels, then creates the series (or hands out the overflow one). */
  private create(labels: Readonly<Record<string, unknown>>): S {
    const names = this.labelNames;
    const own: Record<string, string> = {};
    for (const name of names) {
      const v = labels[name];
      if (typeof v === 'string') own[name] = v;
      else if (typeof v === 'number') own[name] = '' + v;
      else if (v === undefined) throw new MissingLabelError(this.name, name);
      else throw new InvalidLabelValueError(this.name, name, v === null ? 'null' : typeof v);
    }
    for (const k of Object.keys(labels)) if (!names.includes(k)) throw new UnknownLabelError(this.name, k, names);
    // The fast path also misses on label objects with inherited enumerable keys, and on every new
    // label set past maxSeries: walk without creating maps, so such a flood leaves nothing behind.
    const last = names.length - 1;
    let node: Map<string, unknown> | undefined = this.tree;
    for (let i = 0; i < last && node !== undefined; i++)
      node = node.get(own[names[i]]) as Map<string, unknown> | undefined;
    const found = last < 0 ? this.unlabelled : (node?.get(own[names[last]]) as S | undefined);
    if (found !== undefined) return found;
    if (this.list.length >= this.shared.maxSeries) return this.overflow();
    refreshTracingGlobals();
    const s = this.createSeries(
      Object.freeze(own),
      this.joinDefaults(formatLabelPairs(names.map((name) => [name, own[name]] as const))),
    );
    node = this.tree;
    for (let i = 0; i < last; i++) {
      let next = node.get(own[names[i]]) as Map<string, unknown> | undefined;
      if (next === undefined) node.set(own[names[i]], (next = new Map()));
      node = next;
    }
    if (last < 0) this.unlabelled = s;
    else node.set(own[names[last]], s);
    this.list.push(s);
    return s;
  }

  private overflow(): S {
    this.shared.onOverflow(this.name);
    if (this.overflowSeries === undefined) {
      const own: Record<string, string> = {};
      for (const n of this.labelNames) own[n] = OVERFLOW_VALUE;
      this.overflowSeries = this.createSeries(
        Object.freeze(own),
        this.joinDefaults(formatLabelPairs(this.labelNames.map((n) => [n, OVERFLOW_VALUE] as const))),
      );
    }
    return this.overflowSeries;
  }

  private joinDefaults(own: string): string {
    if (!this.defaultsStr) return own;
    return own ? own + ',' + this.defaultsStr : this.defaultsStr;
  }

  /** Every series including the overflow one. */
  allSeries(): S[] {
    return this.overflowSeries === undefined ? this.list : [...this.list, this.overflowSeries];
  }

  /** Zeroes every series in place: bound handles keep working after a reset. */
  reset(): void {
    for (const s of this.allSeries()) s.zero();
  }

  /** prom-client's interface, used by `registry.metrics()` and `getMetricsAsJSON()`. */
  async get(): Promise<PromMetricObject> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }

  protected abstract values(): PromValue[];

  /** OpenMetrics names a counter family without its `_total` suffix. */
  familyName(openMetrics: boolean): string {
    return openMetrics && this.type === 'counter' && this.name.endsWith('_total') ? this.name.slice(0, -6) : this.name;
  }

  renderHeader(openMetrics: boolean): string {
    const fam = this.familyName(openMetrics);
    const unit = openMetrics ? unitLine(fam) : '';
    return (
      '# HELP ' + fam + ' ' + escapeHelp(this.help, openMetrics) + '\n# TYPE ' + fam + ' ' + this.type + '\n' + unit
    );
  }

  /** The exposition lines of one series; undefined for metric types rendered from `get()`. */
  abstract renderSeries(s: S, openMetrics: boolean): string;

  /** `name{labels}`-style prefix (no trailing space) with the series labels plus `extra` pairs. */
  static head(name: string, labelStr: string, extra?: string): string {
    const inner = extra === undefined ? labelStr : labelStr ? labelStr + ',' + extra : extra;
    return inner ? name + '{' + inner + '}' : name;
  }
}

/** OpenMetrics base units a family name may end in (`_seconds`, `_bytes`, …). */
const UNIT_SUFFIX = /_(seconds|bytes|ratio|joules|grams|meters|volts|amperes|celsius)$/;

/**
 * The OpenMetrics `# UNIT` line of a family whose name ends in a base unit ('' otherwise): the
 * unit MUST be a suffix of the family name, so only such names get one.
 */
export function unitLine(family: string): string {
  const m = UNIT_SUFFIX.exec(family);
  return m === null ? '' : '# UNIT ' + family + ' ' + m[1] + '\n';
}

export function exemplarLabelSet(traceId: string, spanId: string): Record<string, string> {
  return { trace_id: traceId, span_id: spanId };
}

/** A timer that records the elapsed seconds through `record` when ended, and returns them. */
export function secondsTimer(record: (seconds: number) => void): () => number {
  const start = performance.now();
  return () => {
    const seconds = (performance.now() - start) / 1000;
    record(seconds);
    return seconds;
  };
}

export function invalidObservation(metric: string, value: unknown): InvalidValueError {
  return new InvalidValueError(metric, value, 'observations must be numbers (not NaN)');
}

/** Histograms and summaries: the same observe(), labels() and startTimer() over their own series. */
export abstract class ObservingMetric<L extends string, S extends SeriesBase & BoundHistogram> extends BaseMetric<S> {
  observe(labels: LabelValues<L>, value: number): void;
  observe(value: number): void;
  observe(a: LabelValues<L> | number, value?: number): void {
    if (!this.shared.enabled) return;
    const labelled = typeof a === 'object' && a !== null;
    const v = labelled ? value : a;
    // Checked before the series lookup so a bad value creates no series.
    if (typeof v !== 'number' || v !== v) throw invalidObservation(this.name, v);
    this.resolve(labelled ? a : {}).observe(v);
  }

  labels(labels: LabelValues<L>): BoundHistogram {
    return this.resolve(labels);
  }

  startTimer(labels?: Partial<LabelValues<L>>): (extraLabels?: Partial<LabelValues<L>>) => number {
    const start = performance.now();
    return (extra) => {
      const seconds = (performance.now() - start) / 1000;
      this.resolve(extra ? { ...labels, ...extra } : (labels ?? {})).observe(seconds);
      return seconds;
    };
  }
}
