// perfLogger: timers that log how long an operation took. Slow operations are logged at `warn`
// with `duration_ms`, which the aggregator's slow-operation pattern picks up.
import { createConfigReader, type Env } from '@periscope/core';
import { configError } from './errors';

export interface PerfLoggerOptions {
  /** Operations at least this slow are logged at `warn` with `slow: true`. Env PERISCOPE_LOG_SLOW_MS; default 1000. */
  slowMs?: number;
  /** Level of ordinary timings. Default `info`. */
  level?: string;
}

export interface PerfTimer {
  /** Logs the duration (with extra fields) and returns it in milliseconds. Only the first call logs. */
  end(fields?: Record<string, unknown>): number;
}

export interface PerfLogger {
  start(operation: string, fields?: Record<string, unknown>): PerfTimer;
  /** Runs fn (sync or async), logs its duration and outcome, and returns its result. */
  time<T>(operation: string, fn: () => T, fields?: Record<string, unknown>): T;
}

export interface LogTarget {
  log(level: string, message: string, meta: Record<string, unknown>): unknown;
}

export function createPerfLogger(target: LogTarget, options: PerfLoggerOptions = {}, env?: Env): PerfLogger {
  const reader = createConfigReader({ env, error: configError, scope: 'perf' });
  reader.rejectUnknown(options, ['slowMs', 'level'], 'perf options');
  const slowMs = reader.duration('slowMs', options.slowMs, { env: 'PERISCOPE_LOG_SLOW_MS', default: 1000, min: 0 });
  const level = reader.string('level', options.level, { default: 'info' });

  function start(operation: string, fields?: Record<string, unknown>): PerfTimer {
    const t0 = process.hrtime.bigint();
    let done = -1;
    return {
      end(extra?: Record<string, unknown>): number {
        if (done >= 0) return done;
        done = Number(process.hrtime.bigint() - t0) / 1e6;
        const ms = Math.round(done * 1000) / 1000;
        const slow = ms >= slowMs;
        target.log(slow ? 'warn' : level, `${operation} took ${ms} ms${slow ? ' (slow)' : ''}`, {
          ...fields,
          ...extra,
          operation,
          duration_ms: ms,
          ...(slow ? { slow: true } : {}),
        });
        return done;
      },
    };
  }

  function time<T>(operation: string, fn: () => T, fields?: Record<string, unknown>): T {
    const timer = start(operation, fields);
    let result: T;
    try {
      result = fn();
    } catch (err) {
      timer.end({ outcome: 'error', error_type: err instanceof Error ? err.name : typeof err });
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (v) => {
          timer.end({ outcome: 'ok' });
          return v;
        },
        (err: unknown) => {
          timer.end({ outcome: 'error', error_type: err instanceof Error ? err.name : typeof err });
          throw err;
        },
      ) as T;
    }
    timer.end({ outcome: 'ok' });
    return result;
  }

  return { start, time };
}
