// Options of the CPU profilers: declared once with their defaults and environment variables,
// resolved through core's ConfigReader (explicit option > environment > default). Unknown keys fail
// with a ProfilingConfigError naming the nearest known option.
import { createConfigReader, NOOP_LOGGER, type ConfigReader, type Env, type Logger } from '@periscope/core';
import type { Metrics } from '@periscope/metrics';
import { ProfilingConfigError } from './errors';

export function reader(env: Env | undefined, scope: string): ConfigReader {
  return createConfigReader({
    env,
    scope,
    error: (option, accepted, got, suggestion) => new ProfilingConfigError(option, accepted, got, suggestion),
  });
}

export interface CaptureOptions {
  /** Samples per second. Default 100 (PERISCOPE_PROFILING_HZ). When another capture already runs, the sampler keeps its rate. */
  hz?: number;
  /** Attached to every sample of the exports (pprof labels). Default none. */
  labels?: Record<string, string>;
  /** Ends the capture early: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Read instead of process.env. */
  env?: Env;
}

export const HZ = { env: 'PERISCOPE_PROFILING_HZ', default: 100, min: 1, max: 10_000 } as const;

export function checkLabels(r: ConfigReader, labels: unknown): Record<string, string> {
  if (labels === undefined) return {};
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels))
    r.fail('labels', 'an object of string values', labels);
  for (const [k, v] of Object.entries(labels as object)) {
    if (typeof v !== 'string') r.fail(`labels.${k}`, 'a string', v);
  }
  return { ...(labels as Record<string, string>) };
}

export interface ProfilerOptions {
  /** Samples per second. Default 100 (PERISCOPE_PROFILING_HZ). */
  hz?: number;
  /** Length of one window. Default 10000 ms (PERISCOPE_PROFILING_WINDOW, e.g. "10s"). */
  windowMs?: number;
  /** Windows kept in memory (older ones are dropped). Default 6 (PERISCOPE_PROFILING_RETENTION). */
  retention?: number;
  /** Attached to every sample of every window (pprof labels, Pyroscope tags). Default none. */
  labels?: Record<string, string>;
  /** Called with each finished window (e.g. a Pyroscope exporter's `push`). Errors are logged and counted. */
  onWindow?: (profile: import('./cpu').CpuProfile) => void;
  /** Registers periscope_profiling_* metrics here. Default none. */
  metrics?: Metrics;
  /** Default NOOP_LOGGER. */
  logger?: Logger;
  /** Read instead of process.env. */
  env?: Env;
}

export interface ResolvedProfilerOptions {
  hz: number;
  windowMs: number;
  retention: number;
  labels: Record<string, string>;
  onWindow: ((profile: import('./cpu').CpuProfile) => void) | undefined;
  metrics: Metrics | undefined;
  logger: Logger;
}

const PROFILER_KEYS = ['hz', 'windowMs', 'retention', 'labels', 'onWindow', 'metrics', 'logger', 'env'] as const;

export function resolveProfilerOptions(options: ProfilerOptions = {}): ResolvedProfilerOptions {
  const r = reader(options.env, 'profiler');
  r.rejectUnknown(options, PROFILER_KEYS);
  if (options.onWindow !== undefined && typeof options.onWindow !== 'function')
    r.fail('onWindow', 'a function', options.onWindow);
  return {
    hz: r.number('hz', options.hz, HZ),
    windowMs: r.duration('windowMs', options.windowMs, {
      env: 'PERISCOPE_PROFILING_WINDOW',
      default: 10_000,
      min: 50,
      max: 3_600_000,
    }),
    retention: r.integer('retention', options.retention, {
      env: 'PERISCOPE_PROFILING_RETENTION',
      default: 6,
      min: 1,
      max: 10_000,
    }),
    labels: checkLabels(r, options.labels),
    onWindow: options.onWindow,
    metrics: options.metrics,
    logger: options.logger ?? NOOP_LOGGER,
  };
}

const CAPTURE_KEYS = ['hz', 'labels', 'signal', 'env'] as const;

export function resolveCaptureOptions(
  ms: unknown,
  options: CaptureOptions = {},
): { hz: number; labels: Record<string, string> } {
  const r = reader(options.env, 'profile');
  r.rejectUnknown(options, CAPTURE_KEYS);
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 1 || ms > 3_600_000)
    r.fail('ms', 'a number of milliseconds in [1, 3600000]', ms);
  return { hz: r.number('hz', options.hz, HZ), labels: checkLabels(r, options.labels) };
}
