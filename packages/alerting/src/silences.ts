// Silences (mute alerts whose labels match, until they expire) and inhibition (a firing source
// alert mutes target alerts that share the `equal` labels), with Alertmanager's meaning.
import { randomUUID } from 'node:crypto';
import { AlertingConfigError } from './errors';
import type { LabelMatcher } from './promql/ast';
import type { Alert } from './state';

export interface SilenceInput {
  /** Label equality pairs, or matchers with =, !=, =~, !~. */
  matchers: Record<string, string> | LabelMatcher[];
  /** How long it lasts from now. One of durationMs / endsAt is required. */
  durationMs?: number;
  /** When it ends (ms since the epoch). */
  endsAt?: number;
  comment?: string;
  createdBy?: string;
}

export interface Silence {
  id: string;
  matchers: LabelMatcher[];
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
}

export interface InhibitRule {
  /** Labels the muting (firing) alert has. */
  source: Record<string, string>;
  /** Labels the muted alert has. */
  target: Record<string, string>;
  /** Labels both must share. */
  equal?: string[];
}

/** A critical alert mutes the warnings of the same alertname. */
export const DEFAULT_INHIBIT_RULES: InhibitRule[] = [
  { source: { severity: 'critical' }, target: { severity: 'warning' }, equal: ['alertname'] },
];

const MAX_SILENCES = 10_000;

function toMatchers(input: SilenceInput['matchers']): LabelMatcher[] {
  const list: LabelMatcher[] = Array.isArray(input)
    ? input
    : Object.entries(input ?? {}).map(([name, value]) => ({ name, op: '=' as const, value }));
  if (list.length === 0) throw new AlertingConfigError('silence.matchers', 'at least one matcher', list);
  for (const m of list) {
    if (typeof m?.name !== 'string' || typeof m.value !== 'string' || !['=', '!=', '=~', '!~'].includes(m.op))
      throw new AlertingConfigError('silence.matchers', 'matchers { name, op: =|!=|=~|!~, value }', m);
    if (m.op === '=~' || m.op === '!~') {
      try {
        new RegExp(`^(?:${m.value})$`);
      } catch {
        throw new AlertingConfigError('silence.matchers', 'a valid regular expression', m.value);
      }
    }
  }
  return list.map((m) => ({ name: m.name, op: m.op, value: m.value }));
}

export function matchesAll(labels: Readonly<Record<string, string>>, matchers: readonly LabelMatcher[]): boolean {
  return matchers.every((m) => {
    const v = labels[m.name] ?? '';
    switch (m.op) {
      case '=':
        return v === m.value;
      case '!=':
        return v !== m.value;
      case '=~':
        return new RegExp(`^(?:${m.value})$`, 's').test(v);
      case '!~':
        return !new RegExp(`^(?:${m.value})$`, 's').test(v);
    }
  });
}

export class Silences {
  private readonly list = new Map<string, Silence>();

  add(input: SilenceInput, now: number): Silence {
    if (input === null || typeof input !== 'object') throw new AlertingConfigError('silence', 'an object', input);
    const matchers = toMatchers(input.matchers);
    const endsAt = input.endsAt ?? (input.durationMs !== undefined ? now + input.durationMs : NaN);
    if (!Number.isFinite(endsAt) || endsAt <= now)
      throw new AlertingConfigError(
        'silence.durationMs',
        'a positive duration (or endsAt in the future)',
        input.durationMs ?? input.endsAt,
      );
    this.expire(now);
    if (this.list.size >= MAX_SILENCES)
      throw new AlertingConfigError('silence', `at most ${MAX_SILENCES} active silences`, this.list.size);
    const silence: Silence = {
      id: randomUUID(),
      matchers,
      startsAt: now,
      endsAt,
      comment: input.comment ?? '',
      createdBy: input.createdBy ?? '',
    };
    this.list.set(silence.id, silence);
    return silence;
  }

  remove(id: string): boolean {
    return this.list.delete(id);
  }

  expire(now: number): void {
    for (const [id, s] of this.list) if (s.endsAt <= now) this.list.delete(id);
  }

  active(now: number): Silence[] {
    this.expire(now);
    return [...this.list.values()];
  }

  /** Ids of the active silences that match. */
  matching(labels: Readonly<Record<string, string>>, now: number): string[] {
    const ids: string[] = [];
    for (const s of this.list.values()) if (s.endsAt > now && matchesAll(labels, s.matchers)) ids.push(s.id);
    return ids;
  }
}

function hasAll(labels: Readonly<Record<string, string>>, want: Record<string, string>): boolean {
  for (const k in want) if (labels[k] !== want[k]) return false;
  return true;
}

/** Sets `inhibitedBy` on every alert muted by a firing source alert. */
export function applyInhibition(alerts: readonly Alert[], rules: readonly InhibitRule[]): void {
  for (const a of alerts) a.inhibitedBy = [];
  for (const rule of rules) {
    const sources = alerts.filter((a) => a.state === 'firing' && hasAll(a.labels, rule.source));
    if (sources.length === 0) continue;
    for (const target of alerts) {
      if (!hasAll(target.labels, rule.target)) continue;
      for (const src of sources) {
        if (src === target) continue;
        if ((rule.equal ?? []).every((k) => (src.labels[k] ?? '') === (target.labels[k] ?? ''))) {
          target.inhibitedBy.push(src.fingerprint);
          break;
        }
      }
    }
  }
}
