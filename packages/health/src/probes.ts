// Probe bodies: Kubernetes-style text for /livez and /readyz, draft-inadarei health+json for /health.
import type { CheckResult, CheckStatus } from './checks';
import { NAME } from './config';
import type { LifecycleState } from './instrumentation';

export { toJson } from './respond';

const MAX_ECHOED = 64;

// Control characters are exactly what this pattern is for.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from a client or a dependency, made safe for one line of a text/plain probe answer: runs
 * of whitespace become one space and every other control or format character is written as
 * \uXXXX, so nothing can start a line of its own (a fake `[+]db ok`) or drive a terminal.
 */
export function escapeLine(text: string): string {
  return text.replace(/\s+/g, ' ').replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One `[+]name ok` / `[-]name failed: reason` line per check, as kube-apiserver's ?verbose prints. */
export function checkLine(r: CheckResult): string {
  if (r.status === 'pass') return `[+]${r.name} ok`;
  const reason = r.output ? `: ${escapeLine(r.output)}` : '';
  if (r.status === 'warn') return `[+]${r.name} warn${reason}`;
  return `[-]${r.name} failed${r.critical ? '' : ' (non-critical)'}${reason}`;
}

export interface Exclusions {
  /** Valid check names given by `?exclude=a&exclude=b` or `?exclude=a,b`. */
  names: Set<string>;
  /** What was given but cannot be a check name, already escaped for a probe line (at most a few). */
  invalid: string[];
}

const MAX_EXCLUDES = 64;

/** Parses `?exclude=`; anything that is not a check name is kept apart, escaped, never echoed raw. */
export function excludedNames(query: URLSearchParams | undefined): Exclusions {
  const out: Exclusions = { names: new Set(), invalid: [] };
  if (!query) return out;
  let seen = 0;
  for (const v of query.getAll('exclude')) {
    for (const n of v.split(',')) {
      if (n === '' || ++seen > MAX_EXCLUDES) continue;
      if (NAME.test(n)) out.names.add(n);
      else if (out.invalid.length < 8) {
        const shown = n.length > MAX_ECHOED ? `${n.slice(0, MAX_ECHOED)}...` : n;
        out.invalid.push(escapeLine(JSON.stringify(shown)));
      }
    }
  }
  return out;
}

/** The lines /readyz?verbose prints for `?exclude=`: one per valid name, one per rejected one. */
export function exclusionLines(exclusions: Exclusions, known: (name: string) => boolean): string[] {
  const lines: string[] = [];
  for (const n of exclusions.names)
    lines.push(
      known(n) ? `[+]${n} excluded: ok` : `warn: some health checks cannot be excluded: no matches for "${n}"`,
    );
  for (const shown of exclusions.invalid) lines.push(`warn: ignored exclude=${shown}: not a valid check name`);
  return lines;
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
