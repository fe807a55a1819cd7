// Function timing: wrappers, a decorator and blocks that record calls, errors and durations into
// a perf_hooks histogram per name (HDR, 3 significant digits), optionally also as Prometheus
// metrics. The hot path is one performance.now() pair, a histogram record and two additions.
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { Buckets, type BoundHistogram, type BoundCounter, type Metrics } from '@periscope/metrics';
import { reader } from './config';

export interface FunctionStats {
  name: string;
  calls: number;
  errors: number;
  totalMs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface FunctionProfilerOptions {
  /** Also record periscope_profiling_function_duration_seconds / _errors_total here. Default none. */
  metrics?: Metrics;
}

export interface ProfileFunctionOptions {
  /** Name in stats() and metrics. Default: the function's name (or "anonymous"). */
  name?: string;
}

class Entry {
  calls = 0;
  errors = 0;
  totalNs = 0;
  readonly histogram: RecordableHistogram = createHistogram();
  constructor(
    readonly name: string,
    private readonly duration: BoundHistogram | undefined,
    private readonly failures: BoundCounter | undefined,
  ) {}

  record(start: number, failed: boolean): void {
    const ns = Math.max(1, Math.round((performance.now() - start) * 1e6));
    this.calls++;
    this.totalNs += ns;
    this.histogram.record(ns);
    this.duration?.observe(ns / 1e9);
    if (failed) {
      this.errors++;
      this.failures?.inc();
    }
  }

  /** Runs fn, recording it; a promise result is recorded when it settles. */
  run<T>(fn: () => T): T {
    return this.call(fn, undefined, []);
  }

  /** fn.apply(self, args), recorded (no closure per call: this is the wrapper's hot path). */
  call<T, S, A extends unknown[]>(fn: (this: S, ...args: A) => T, self: S, args: A): T {
    const start = performance.now();
    let result: T;
    try {
      result = fn.apply(self, args);
    } catch (err) {
      this.record(start, true);
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          this.record(start, false);
          return value;
        },
        (err: unknown) => {
          this.record(start, true);
          throw err;
        },
      ) as T;
    }
    this.record(start, false);
    return result;
  }

  stats(): FunctionStats {
    const h = this.histogram;
    const ms = (ns: number) => (this.calls === 0 ? 0 : ns / 1e6);
    return {
      name: this.name,
      calls: this.calls,
      errors: this.errors,
      totalMs: this.totalNs / 1e6,
      meanMs: this.calls === 0 ? 0 : this.totalNs / this.calls / 1e6,
      p50Ms: ms(h.percentile(50)),
      p95Ms: ms(h.percentile(95)),
      p99Ms: ms(h.percentile(99)),
      maxMs: ms(h.max),
    };
  }
}

export class FunctionProfiler {
  private readonly entries = new Map<string, Entry>();
  private readonly metrics: Metrics | undefined;
  private durationMetric: ReturnType<Metrics['histogram']> | undefined;
  private errorMetric: ReturnType<Metrics['counter']> | undefined;

  constructor(options: FunctionProfilerOptions = {}) {
    const r = reader(undefined, 'functionProfiler');
    r.rejectUnknown(options, ['metrics']);
    this.metrics = options.metrics;
  }

  /** @internal The timing entry for `name` (created on first use). */
  entryFor(name: string): Entry {
    return this.entry(name);
  }

  private entry(name: string): Entry {
    let e = this.entries.get(name);
    if (e === undefined) {
      e = new Entry(name, this.durationHandle(name), this.errorHandle(name));
      this.entries.set(name, e);
    }
    return e;
  }

  /** `fn` wrapped: same arguments, `this` and result; sync and async. */
  wrap<A extends unknown[], R, This = unknown>(
    fn: (this: This, ...args: A) => R,
    options: ProfileFunctionOptions = {},
  ): (this: This, ...args: A) => R {
    if (typeof fn !== 'function') reader(undefined, 'profileFunction').fail('fn', 'a function', fn);
    const e = this.entry(options.name ?? (fn.name || 'anonymous'));
    return function (this: This, ...args: A): R {
      return e.call(fn, this, args);
    };
  }

  /** Runs `fn` (sync or async) under `name`. */
  block<T>(name: string, fn: () => T): T {
    return this.entry(name).run(fn);
  }

  /** Per name, sorted by total time (largest first). */
  stats(): FunctionStats[] {
    return [...this.entries.values()].map((e) => e.stats()).sort((a, b) => b.totalMs - a.totalMs);
  }

  /** Forgets every recorded call (metrics keep their own counts). */
  reset(): void {
    for (const e of this.entries.values()) {
      e.calls = 0;
      e.errors = 0;
      e.totalNs = 0;
      e.histogram.reset();
    }
  }

  private durationHandle(name: string): BoundHistogram | undefined {
    if (this.metrics === undefined) return undefined;
    this.durationMetric ??= this.metrics.histogram({
      name: 'periscope_profiling_function_duration_seconds',
      help: 'Duration of profiled functions and blocks',
      labelNames: ['function'] as const,
      buckets: Buckets.latency,
    });
    return this.durationMetric.labels({ function: name } as never);
  }

  private errorHandle(name: string): BoundCounter | undefined {
    if (this.metrics === undefined) return undefined;
    this.errorMetric ??= this.metrics.counter({
      name: 'periscope_profiling_function_errors_total',
      help: 'Profiled functions and blocks that threw or rejected',
      labelNames: ['function'] as const,
    });
    return this.errorMetric.labels({ function: name } as never);
  }
}

export function createFunctionProfiler(options?: FunctionProfilerOptions): FunctionProfiler {
  return new FunctionProfiler(options);
}

/** The process-wide function profiler behind profileFunction, profileBlock, `@Profiled` and stats(). */
export const functionProfiler = new FunctionProfiler();

export interface ProfiledOptions extends ProfileFunctionOptions {
  /** Record into this profiler instead of the process-wide one. */
  profiler?: FunctionProfiler;
}

/** `fn` wrapped with timing (see FunctionProfiler.wrap). */
export function profileFunction<A extends unknown[], R, This = unknown>(
  fn: (this: This, ...args: A) => R,
  options: ProfiledOptions = {},
): (this: This, ...args: A) => R {
  return (options.profiler ?? functionProfiler).wrap(fn, options);
}

/** Runs `fn` (sync or async) timed under `name`. */
export function profileBlock<T>(name: string, fn: () => T, profiler: FunctionProfiler = functionProfiler): T {
  return profiler.block(name, fn);
}

/** Timing of every profiled function and block, sorted by total time. */
export function stats(profiler: FunctionProfiler = functionProfiler): FunctionStats[] {
  return profiler.stats();
}

/** Method decorator (TypeScript 5 standard decorators); the name defaults to `Class.method`. */
export function Profiled(options: ProfiledOptions = {}) {
  return function <This, A extends unknown[], R>(
    method: (this: This, ...args: A) => R,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => R>,
  ) {
    const profiler = options.profiler ?? functionProfiler;
    const methodName = String(context.name);
    let lastClass: unknown;
    let lastName = '';
    return function (this: This, ...args: A): R {
      let name = options.name;
      if (name === undefined) {
        const ctor = (this as { constructor?: { name?: string } })?.constructor;
        if (ctor !== lastClass) {
          lastClass = ctor;
          lastName = `${ctor?.name ?? 'anonymous'}.${methodName}`;
        }
        name = lastName;
      }
      return profiler.entryFor(name).call(method, this, args);
    };
  };
}
