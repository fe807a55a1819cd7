// Event-loop delay (perf_hooks.monitorEventLoopDelay) and utilization
// (performance.eventLoopUtilization) as figures and, optionally, metrics. The figures cover the
// current window; every `intervalMs` the window is published to the metrics and starts afresh.
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import type { Env } from '@periscope/core';
import type { Metrics } from '@periscope/metrics';
import { reader } from './config';

export interface EventLoopOptions {
  /** Sampling resolution of the delay timer. Default 10 ms (PERISCOPE_PROFILING_EVENT_LOOP_RESOLUTION). */
  resolutionMs?: number;
  /** Window length: figures are published and reset this often. Default 10000 ms (PERISCOPE_PROFILING_EVENT_LOOP_INTERVAL). */
  intervalMs?: number;
  /** Publishes periscope_profiling_event_loop_delay_seconds{stat} and _utilization_ratio. Default none. */
  metrics?: Metrics;
  /** Read instead of process.env. */
  env?: Env;
}

export interface EventLoopSnapshot {
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  delayMeanMs: number;
  /** Share of time the loop was busy, 0..1. */
  utilization: number;
  /** Length of the window the figures cover, ms. */
  windowMs: number;
}

export class EventLoopMonitor {
  private readonly histogram: IntervalHistogram;
  private elu: EventLoopUtilization;
  private windowStart = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly publish: (s: EventLoopSnapshot) => void;
  private last: EventLoopSnapshot | undefined;

  constructor(options: EventLoopOptions = {}) {
    const r = reader(options.env, 'eventLoop');
    r.rejectUnknown(options, ['resolutionMs', 'intervalMs', 'metrics', 'env']);
    const resolution = r.duration('resolutionMs', options.resolutionMs, {
      env: 'PERISCOPE_PROFILING_EVENT_LOOP_RESOLUTION',
      default: 10,
      min: 1,
      max: 10_000,
    });
    const interval = r.duration('intervalMs', options.intervalMs, {
      env: 'PERISCOPE_PROFILING_EVENT_LOOP_INTERVAL',
      default: 10_000,
      min: 10,
      max: 3_600_000,
    });
    this.publish = publisher(options.metrics);
    this.histogram = monitorEventLoopDelay({ resolution: Math.round(resolution) });
    this.histogram.enable();
    this.elu = performance.eventLoopUtilization();
    this.timer = setInterval(() => this.roll(), interval);
    this.timer.unref();
  }

  /** Figures of the current window (since the last roll). */
  snapshot(): EventLoopSnapshot {
    const h = this.histogram;
    const ms = (ns: number) => (h.count === 0 ? 0 : ns / 1e6);
    return {
      delayP50Ms: ms(h.percentile(50)),
      delayP99Ms: ms(h.percentile(99)),
      delayMaxMs: ms(h.max),
      delayMeanMs: h.count === 0 ? 0 : h.mean / 1e6,
      utilization: performance.eventLoopUtilization(this.elu).utilization,
      windowMs: performance.now() - this.windowStart,
    };
  }

  /** The last finished window, if one finished. */
  lastWindow(): EventLoopSnapshot | undefined {
    return this.last;
  }

  /** Publishes the current window and starts a new one; returns the finished window. */
  roll(): EventLoopSnapshot {
    const s = this.snapshot();
    this.publish(s);
    this.last = s;
    this.histogram.reset();
    this.elu = performance.eventLoopUtilization();
    this.windowStart = performance.now();
    return s;
  }

  /** Stops the delay timer and the window timer. Idempotent; settles at once. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      clearInterval(this.timer);
      this.timer = undefined;
      this.histogram.disable();
    }
    return Promise.resolve();
  }
}

function publisher(metrics: Metrics | undefined): (s: EventLoopSnapshot) => void {
  if (metrics === undefined) return () => undefined;
  const delay = metrics.gauge({
    name: 'periscope_profiling_event_loop_delay_seconds',
    help: 'Event-loop delay over the last window, by stat (p50, p99, max, mean)',
    labelNames: ['stat'] as const,
  });
  const p50 = delay.labels({ stat: 'p50' });
  const p99 = delay.labels({ stat: 'p99' });
  const max = delay.labels({ stat: 'max' });
  const mean = delay.labels({ stat: 'mean' });
  const utilization = metrics.gauge({
    name: 'periscope_profiling_event_loop_utilization_ratio',
    help: 'Share of the last window the event loop was busy (0..1)',
  });
  return (s) => {
    p50.set(s.delayP50Ms / 1000);
    p99.set(s.delayP99Ms / 1000);
    max.set(s.delayMaxMs / 1000);
    mean.set(s.delayMeanMs / 1000);
    utilization.set(s.utilization);
  };
}

export function monitorEventLoop(options?: EventLoopOptions): EventLoopMonitor {
  return new EventLoopMonitor(options);
}
