// Alert states per rule, as Prometheus' rules/alerting.go keeps them: a new result series becomes
// pending (activeAt), fires once it has held for `forMs`, keeps firing for `keepFiringForMs` after
// it clears, and is then resolved; a resolved alert is kept 15 min (to be reported as resolved),
// a pending one that clears is dropped. Identity is the fingerprint of the alert's labels.
import { createHash } from 'node:crypto';
import type { CompiledRule } from './rules';
import type { Vector } from './promql/eval';

export type AlertState = 'pending' | 'firing' | 'resolved';

export interface Alert {
  /** Hex fingerprint of the labels (identity for dedup, silences and Alertmanager). */
  fingerprint: string;
  /** Name of the rule (or `log:<pattern>` for log-pattern alerts). */
  rule: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: AlertState;
  /** Last value of the expression for this series. */
  value: number;
  /** When the condition was first seen (ms). */
  activeAt: number;
  firedAt?: number;
  resolvedAt?: number;
  /** Ids of silences that mute it (empty when none). */
  silencedBy: string[];
  /** Fingerprints of firing alerts that inhibit it. */
  inhibitedBy: string[];
}

export interface InternalAlert extends Alert {
  keepFiringSince?: number;
}

/** One state change of one alert. */
export interface Change {
  alert: InternalAlert;
  from: AlertState | 'inactive';
  to: AlertState | 'inactive';
}

/** Prometheus keeps resolved alerts this long so the resolution reaches Alertmanager. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** An exact, injective key of a label set (length-prefixed pairs in name order). */
export function labelKey(labels: Readonly<Record<string, string>>): string {
  let key = '';
  for (const k of Object.keys(labels).sort()) key += `${k.length}:${k}${labels[k].length}:${labels[k]}`;
  return key;
}

export function fingerprint(labels: Readonly<Record<string, string>>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(labels).sort()) h.update(`${k}\u0000${labels[k]}\u0000`);
  return h.digest('hex').slice(0, 16);
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Expands `{{ $labels.name }}`, `{{ .Labels.name }}`, `{{ $value }}` and `{{ .Value }}` like Prometheus' templates. */
export function expandTemplate(text: string, labels: Readonly<Record<string, string>>, value: number): string {
  if (!text.includes('{{')) return text;
  return text.replace(
    /\{\{-?\s*(\$labels|\.Labels)\.([a-zA-Z_][a-zA-Z0-9_]*)\s*-?\}\}|\{\{-?\s*(\$value|\.Value)\s*-?\}\}/g,
    (_m, _l, name: string | undefined) => (name !== undefined ? (labels[name] ?? '<no value>') : formatValue(value)),
  );
}

interface Identity {
  seriesLabels: Record<string, string>;
  labels: Record<string, string>;
  key: string;
}

/** One rule's alerts across evaluations. */
export class RuleState {
  readonly active = new Map<string, InternalAlert>();
  lastError: Error | undefined;
  lastEvaluation = 0;
  lastDurationMs = 0;

  /** Alert labels per result label set (stable objects from the source), when the rule's labels have no templates. */
  private readonly identities = new WeakMap<Readonly<Record<string, string>>, Identity>();
  private readonly templatedLabels: boolean;

  constructor(readonly compiled: CompiledRule) {
    this.templatedLabels = Object.values(compiled.labels).some((v) => v.includes('{{'));
  }

  /** The alert's labels (series labels + rule labels + alertname) and their exact key. */
  private identity(series: Readonly<Record<string, string>>, value: number): Identity {
    const cached = this.templatedLabels ? undefined : this.identities.get(series);
    if (cached !== undefined) return cached;
    const seriesLabels: Record<string, string> = {};
    for (const k of Object.keys(series)) if (k !== '__name__') seriesLabels[k] = series[k];
    const labels: Record<string, string> = { ...seriesLabels };
    for (const [k, v] of Object.entries(this.compiled.labels)) labels[k] = expandTemplate(v, seriesLabels, value);
    labels.alertname = this.compiled.rule.name;
    // Keyed by a cheap exact key of the labels; the fingerprint hash is computed once per alert.
    const id = { seriesLabels, labels, key: labelKey(labels) };
    if (!this.templatedLabels) this.identities.set(series, id);
    return id;
  }

  /** Applies one evaluation result at time `ts` (ms). Returns the state changes. */
  apply(result: Vector, ts: number): Change[] {
    const { compiled } = this;
    const seen = new Set<string>();
    const changed: Change[] = [];
    for (const sample of result) {
      const { seriesLabels, labels, key } = this.identity(sample.labels, sample.value);
      const annotations: Record<string, string> = {};
      for (const [k, v] of Object.entries(compiled.annotations))
        annotations[k] = expandTemplate(v, seriesLabels, sample.value);
      if (seen.has(key)) continue;
      seen.add(key);
      const existing = this.active.get(key);
      if (existing !== undefined && existing.state !== 'resolved') {
        existing.value = sample.value;
        existing.annotations = annotations;
        continue;
      }
      const alert: InternalAlert = {
        fingerprint: fingerprint(labels),
        rule: compiled.rule.name,
        labels,
        annotations,
        state: 'pending',
        value: sample.value,
        activeAt: ts,
        silencedBy: [],
        inhibitedBy: [],
      };
      this.active.set(key, alert);
      changed.push({ alert, from: 'inactive', to: 'pending' });
    }
    for (const [key, a] of this.active) {
      if (!seen.has(key)) {
        let keepFiring = false;
        if (a.state === 'firing' && compiled.keepFiringForMs > 0) {
          a.keepFiringSince ??= ts;
          keepFiring = ts - a.keepFiringSince < compiled.keepFiringForMs;
        }
        if (a.state === 'pending' || (a.resolvedAt !== undefined && ts - a.resolvedAt > RESOLVED_RETENTION_MS)) {
          this.active.delete(key);
        }
        if (a.state !== 'resolved' && !keepFiring) {
          changed.push({ alert: a, from: a.state, to: a.state === 'firing' ? 'resolved' : 'inactive' });
          a.state = 'resolved';
          a.resolvedAt = ts;
        }
        if (!keepFiring) continue;
      } else a.keepFiringSince = undefined;
      if (a.state === 'pending' && ts - a.activeAt >= compiled.forMs) {
        a.state = 'firing';
        a.firedAt = ts;
        changed.push({ alert: a, from: 'pending', to: 'firing' });
      }
    }
    return changed;
  }

  /** Ends every alert of the rule (rule removed or disabled): firing ones become resolved. */
  clear(ts: number): Change[] {
    const changed: Change[] = [];
    for (const a of this.active.values()) {
      if (a.state === 'firing') {
        a.state = 'resolved';
        a.resolvedAt = ts;
        changed.push({ alert: a, from: 'firing', to: 'resolved' });
      }
    }
    this.active.clear();
    return changed;
  }
}
