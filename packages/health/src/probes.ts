// Probe bodies: Kubernetes-style text for /livez and /readyz, draft-inadarei health+json for /health.
import type { CheckResult, CheckStatus } from './checks';
import type { LifecycleState } from './instruments';

/** JSON text of a response body; BigInts (counters from drivers) become decimal strings instead of throwing. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** One `[+]name ok` / `[-]name failed: reason` line per check, as kube-apiserver's ?verbose prints. */
export function checkLine(r: CheckResult): string {
  if (r.status === 'pass') return `[+]${r.name} ok`;
  const reason = r.output ? `: ${r.output.replace(/\s+/g, ' ')}` : '';
  if (r.status === 'warn') return `[+]${r.name} warn${reason}`;
  return `[-]${r.name} failed${r.critical ? '' : ' (non-critical)'}${reason}`;
}

/** Names given by `?exclude=a&exclude=b` or `?exclude=a,b`. */
export function excludedNames(query: URLSearchParams | undefined): Set<string> {
  const out = new Set<string>();
  if (!query) return out;
  for (const v of query.getAll('exclude')) for (const n of v.split(',')) if (n) out.add(n);
  return out;
}

/** Ready only when the state is `ready` and no critical check fails. */
export function isReady(state: LifecycleState, results: readonly CheckResult[]): boolean {
  return state === 'ready' && results.every((r) => r.status !== 'fail' || !r.critical);
}

/** Overall health+json status: a critical failure or a state other than ready fails; any other problem warns. */
export function overallStatus(state: LifecycleState, results: readonly CheckResult[]): CheckStatus {
  if (!isReady(state, results)) return 'fail';
  return results.some((r) => r.status !== 'pass') ? 'warn' : 'pass';
}

export interface HealthComponent {
  componentId?: string;
  componentType: string;
  observedValue: unknown;
  observedUnit?: string;
  status: CheckStatus;
  time: string;
  output?: string;
}

export interface HealthDocument {
  status: CheckStatus;
  version: string;
  serviceId: string;
  description: string;
  output?: string;
  checks: Record<string, HealthComponent[]>;
}

export function healthDocument(args: {
  state: LifecycleState;
  results: readonly CheckResult[];
  version: string;
  serviceId: string;
  uptimeSeconds: number;
}): HealthDocument {
  const { state, results } = args;
  const time = new Date().toISOString();
  const checks: Record<string, HealthComponent[]> = {
    uptime: [
      {
        componentType: 'system',
        observedValue: Math.round(args.uptimeSeconds),
        observedUnit: 's',
        status: 'pass',
        time,
      },
    ],
  };
  for (const r of results) {
    const c: HealthComponent = {
      componentType: r.componentType,
      observedValue: r.observedValue,
      status: r.status,
      time: r.time,
    };
    if (r.componentId !== undefined) c.componentId = r.componentId;
    if (r.observedUnit !== undefined) c.observedUnit = r.observedUnit;
    if (r.output !== undefined) c.output = r.output;
    (checks[r.key] ??= []).push(c);
  }
  const status = overallStatus(state, results);
  const doc: HealthDocument = {
    status,
    version: args.version,
    serviceId: args.serviceId,
    description: `${args.serviceId} health`,
    checks,
  };
  if (state !== 'ready') doc.output = `service is ${state}`;
  else if (status === 'fail')
    doc.output = `failing critical checks: ${results
      .filter((r) => r.status === 'fail' && r.critical)
      .map((r) => r.name)
      .join(', ')}`;
  return doc;
}
