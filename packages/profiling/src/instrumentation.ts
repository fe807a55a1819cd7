// Profiler metrics, registered on the caller's Metrics (optional). Without Metrics every call is
// a no-op, so the rotation path never checks `if (metrics)`.
import type { Metrics } from '@periscope/metrics';

export interface ProfilerInstruments {
  window(samples: number, pauseSeconds: number): void;
  retained(windows: number): void;
  error(stage: 'rotate' | 'on_window' | 'push' | 'trigger'): void;
}

const NOOP: ProfilerInstruments = { window() {}, retained() {}, error() {} };

/** Main-thread pauses are sub-millisecond to tens of ms: buckets from 0.1 ms to 0.5 s. */
const PAUSE_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5];

export function createProfilerInstruments(metrics: Metrics | undefined): ProfilerInstruments {
  if (metrics === undefined) return NOOP;
  const windows = metrics.counter({ name: 'periscope_profiling_windows_total', help: 'CPU profile windows finished' });
  const samples = metrics.counter({ name: 'periscope_profiling_samples_total', help: 'CPU samples captured' });
  const pause = metrics.histogram({
    name: 'periscope_profiling_rotation_pause_seconds',
    help: 'Main-thread time spent rotating a window (stop + start + read of the profile)',
    buckets: PAUSE_BUCKETS,
  });
  const retained = metrics.gauge({ name: 'periscope_profiling_retained_windows', help: 'CPU windows held in memory' });
  const errors = metrics.counter({
    name: 'periscope_profiling_errors_total',
    help: 'Profiler failures by stage (rotate, on_window, push, trigger)',
    labelNames: ['stage'] as const,
  });
  return {
    window(n, seconds) {
      windows.inc();
      samples.inc(n);
      pause.observe(seconds);
    },
    retained(n) {
      retained.set(n);
    },
    error(stage) {
      errors.inc({ stage });
    },
  };
}
