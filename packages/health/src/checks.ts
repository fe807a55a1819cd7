// Health checks: run in parallel, each bounded by its timeout, results cached for minIntervalMs and
// concurrent probes sharing one execution, so a probe storm cannot hammer a dependency.
import { performance } from 'node:perf_hooks';
import { validateMs, validateName } from './config';
import { HealthConfigError, errorMessage } from './errors';
import type { Instruments } from './instrumentation';
import { toJson } from './respond';
import { withTimeout } from './timeout';

export type CheckStatus = 'pass' | 'warn' | 'fail';

/** What a check's `run` resolves to. */
export interface CheckOutcome {
  status: CheckStatus;
  /** Defaults to the run's duration in ms (with observedUnit 'ms'). */
  observedValue?: unknown;
  observedUnit?: string;
  /** Why the check warns or fails; shown in /health and /readyz?verbose (redacted). */
  output?: string;
}

export interface CheckDefinition {
  /** Letters, digits, '_', '.', '-'; used in /readyz/<name> and metric labels. */
  name: string;
  /** A failing critical check fails /readyz; a failing non-critical one only makes /health warn. Default true. */
  critical?: boolean;
  /** Bound on one execution; a run still pending then counts as `fail`. Default 1000 ms. */
  timeoutMs?: number;
  /** A result is reused for this long before the check runs again. Default 1000 ms; 0 runs on every probe. */
  minIntervalMs?: number;
  /** health+json `componentType` (e.g. 'datastore', 'system'). Default 'component'. */
  componentType?: string;
  /** health+json `componentId` (e.g. a host or pool id). */
  componentId?: string;
  /** health+json measurement name: the key in `checks` is `<name>:<measurement>`. Default 'responseTime'. */
  measurement?: string;
  /** Does the check. `signal` aborts when the timeout passes. Throwing counts as `fail` with the message as output. */
  run(signal: AbortSignal): CheckOutcome | Promise<CheckOutcome>;
}

export interface CheckResult {
  name: string;
  critical: boolean;
  status: CheckStatus;
  observedValue: unknown;
  observedUnit?: string;
  output?: string;
  /** ISO-8601 time the result was produced. */
  time: string;
  durationMs: number;
  componentType: string;
  componentId?: string;
  /** Key of this check in health+json `checks`. */
  key: string;
}

export const CHECK_DEFAULTS = { critical: true, timeoutMs: 1000, minIntervalMs: 1000 } as const;
const MAX_OUTPUT = 1024;

interface Entry {
  def: Required<
    Pick<CheckDefinition, 'name' | 'critical' | 'timeoutMs' | 'minIntervalMs' | 'componentType' | 'run'>
  > & { componentId?: string; key: string };
  last?: CheckResult;
  lastAt: number;
  /** The answer being computed for concurrent callers. */
  inflight?: Promise<CheckResult>;
  /** Executions whose promise has not settled yet (including ones past their timeout). */
  unsettled: number;
}

const STATUSES = new Set<string>(['pass', 'warn', 'fail']);

export class CheckRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly instruments: Instruments,
    private readonly redact: (value: unknown) => unknown,
  ) {}

  add(def: CheckDefinition): void {
    if (def === null || typeof def !== 'object')
      throw new HealthConfigError('check', '{ name, run, critical?, timeoutMs?, minIntervalMs? }', def);
    const name = validateName('check.name', def.name);
    if (this.entries.has(name)) throw new HealthConfigError('check.name', 'a name not already registered', name);
    if (typeof def.run !== 'function')
      throw new HealthConfigError(
        `check ${name}: run`,
        'a function (signal) => CheckOutcome | Promise<CheckOutcome>',
        def.run,
      );
    if (def.critical !== undefined && typeof def.critical !== 'boolean')
      throw new HealthConfigError(`check ${name}: critical`, 'true or false', def.critical);
    for (const k of ['componentType', 'componentId', 'measurement'] as const) {
      const v = def[k];
      if (v !== undefined && (typeof v !== 'string' || v === ''))
        throw new HealthConfigError(`check ${name}: ${k}`, 'a non-empty string', v);
    }
    const measurement = def.measurement ?? 'responseTime';
    this.entries.set(name, {
      def: {
        name,
        critical: def.critical ?? CHECK_DEFAULTS.critical,
        timeoutMs: validateMs(`check ${name}: timeoutMs`, def.timeoutMs, CHECK_DEFAULTS.timeoutMs, 1),
        minIntervalMs: validateMs(`check ${name}: minIntervalMs`, def.minIntervalMs, CHECK_DEFAULTS.minIntervalMs, 0),
        componentType: def.componentType ?? 'component',
        componentId: def.componentId,
        key: `${name}:${measurement}`,
        run: def.run,
      },
      lastAt: 0,
      unsettled: 0,
    });
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get names(): string[] {
    return [...this.entries.keys()];
  }

  get size(): number {
    return this.entries.size;
  }

  /** Results of the named checks (all when omitted), from cache when fresh; never slower than the largest timeout. */
  run(names: readonly string[] = this.names): Promise<CheckResult[]> {
    return Promise.all(names.map((n) => this.one(n)));
  }

  /** The latest results without running anything (for /status). */
  lastResults(): Record<string, CheckResult | null> {
    const out: Record<string, CheckResult | null> = {};
    for (const [name, e] of this.entries) out[name] = e.last ?? null;
    return out;
  }

  private one(name: string): Promise<CheckResult> {
    const e = this.entries.get(name);
    if (!e) throw new HealthConfigError('check', 'the name of a registered check', name);
    if (e.last && performance.now() - e.lastAt < e.def.minIntervalMs) return Promise.resolve(e.last);
    if (!e.inflight) {
      e.inflight = this.execute(e).then((r) => {
        e.last = r;
        e.lastAt = performance.now();
        e.inflight = undefined;
        return r;
      });
    }
    return e.inflight;
  }

  private async execute(e: Entry): Promise<CheckResult> {
    const { def } = e;
    const start = performance.now();
    let outcome: CheckOutcome;
    // Runs that outlived their timeout are not waited for (a client library may never settle
    // an aborted call), only counted so a leak shows in the output; minIntervalMs bounds the rate.
    const earlier = e.unsettled;
    e.unsettled++;
    try {
      outcome = await withTimeout(`check ${def.name}`, def.timeoutMs, (signal) => {
        const p = Promise.resolve().then(() => def.run(signal));
        const settled = () => {
          e.unsettled--;
        };
        p.then(settled, settled);
        return p;
      });
      outcome = validOutcome(outcome);
    } catch (err) {
      const note = earlier > 0 ? ` (${earlier} earlier ${earlier === 1 ? 'run' : 'runs'} still pending)` : '';
      outcome = { status: 'fail', output: errorMessage(err) + note };
    }
    const durationMs = Math.round((performance.now() - start) * 1000) / 1000;
    this.instruments.checkRun(def.name, outcome.status, durationMs / 1000);
    const result: CheckResult = {
      name: def.name,
      critical: def.critical,
      status: outcome.status,
      observedValue: outcome.observedValue === undefined ? durationMs : this.safe(outcome.observedValue),
      observedUnit: outcome.observedValue === undefined ? 'ms' : outcome.observedUnit,
      time: new Date().toISOString(),
      durationMs,
      componentType: def.componentType,
      key: def.key,
    };
    if (def.componentId !== undefined) result.componentId = def.componentId;
    if (outcome.output) result.output = String(this.safe(outcome.output.slice(0, MAX_OUTPUT)));
    return result;
  }

  /**
   * Check output often quotes a connection error and is shown unauthenticated, so it is redacted
   * once here; values are also made plain JSON here so one odd result cannot break /health.
   */
  private safe(value: unknown): unknown {
    if (typeof value === 'number' || typeof value === 'boolean') return value;
    try {
      const text = toJson(this.redact(value));
      return text === undefined ? null : (JSON.parse(text) as unknown);
    } catch (err) {
      return `[unserializable: ${errorMessage(err)}]`;
    }
  }
}

function validOutcome(o: unknown): CheckOutcome {
  if (o === null || typeof o !== 'object' || !STATUSES.has((o as CheckOutcome).status)) {
    return {
      status: 'fail',
      output: "check returned an invalid result: expected { status: 'pass' | 'warn' | 'fail' }",
    };
  }
  const { status, observedValue, observedUnit, output } = o as CheckOutcome;
  return {
    status,
    observedValue,
    observedUnit: typeof observedUnit === 'string' ? observedUnit : undefined,
    output: typeof output === 'string' ? output : output === undefined ? undefined : String(output),
  };
}
