// From alert states to notifications: which alerts are due (newly firing, resolved after a
// firing notification, or firing past the repeat interval), muted ones left out (silenced or
// inhibited), grouped by the `groupBy` labels into one notification per group.
import type { Notification } from './channels/formats';
import type { Alert } from './state';

interface Notified {
  state: 'firing' | 'resolved';
  at: number;
}

export function snapshot(a: Alert): Alert {
  return {
    fingerprint: a.fingerprint,
    rule: a.rule,
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    state: a.state,
    value: a.value,
    activeAt: a.activeAt,
    firedAt: a.firedAt,
    resolvedAt: a.resolvedAt,
    silencedBy: [...a.silencedBy],
    inhibitedBy: [...a.inhibitedBy],
  };
}

function common<K extends 'labels' | 'annotations'>(alerts: Alert[], key: K): Record<string, string> {
  const out: Record<string, string> = { ...alerts[0][key] };
  for (const a of alerts.slice(1)) for (const k of Object.keys(out)) if (a[key][k] !== out[k]) delete out[k];
  return out;
}

export class Notifier {
  private readonly notified = new Map<string, Notified>();

  constructor(
    private readonly groupBy: readonly string[],
    private readonly repeatIntervalMs: number,
    private readonly externalUrl: string,
  ) {}

  /** The notifications due now; remembers what was sent. */
  due(alerts: readonly Alert[], now: number): Notification[] {
    const groups = new Map<string, { labels: Record<string, string>; alerts: Alert[] }>();
    const live = new Set<string>();
    for (const a of alerts) {
      live.add(a.fingerprint);
      if (a.state === 'pending') continue;
      const prev = this.notified.get(a.fingerprint);
      const muted = a.silencedBy.length > 0 || a.inhibitedBy.length > 0;
      let send = false;
      if (a.state === 'firing') send = !muted && (prev?.state !== 'firing' || now - prev.at >= this.repeatIntervalMs);
      else send = prev?.state === 'firing';
      if (!send) continue;
      this.notified.set(a.fingerprint, { state: a.state, at: now });
      const labels: Record<string, string> = {};
      for (const g of this.groupBy) if (a.labels[g] !== undefined) labels[g] = a.labels[g];
      const key = JSON.stringify(Object.entries(labels).sort());
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = { labels, alerts: [] }));
      group.alerts.push(snapshot(a));
    }
    for (const fp of this.notified.keys()) if (!live.has(fp)) this.notified.delete(fp);
    return [...groups.entries()].map(([key, g]) => ({
      status: g.alerts.some((a) => a.state === 'firing') ? 'firing' : 'resolved',
      groupKey: key,
      groupLabels: g.labels,
      commonLabels: common(g.alerts, 'labels'),
      commonAnnotations: common(g.alerts, 'annotations'),
      alerts: g.alerts,
      externalURL: this.externalUrl,
    }));
  }
}
