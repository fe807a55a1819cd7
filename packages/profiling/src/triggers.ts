// Triggers: when event-loop delay p99 or process CPU crosses a threshold, capture the next
// `captureMs` of CPU profile (on the shared sampler, so a running continuous profiler is not
// restarted), hand it to `onCapture`, then stay quiet for `cooldownMs`.
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { NOOP_LOGGER, type Env, type Logger } from '@periscope/core';
import { profile } from './capture';
import { HZ, checkLabels, reader } from './config';
import type { CpuProfile } from './cpu';

export interface TriggerReason {
  kind: 'event_loop_p99' | 'cpu';
  /** The reading that crossed: ms for event_loop_p99, percent of one core for cpu. */
  value: number;
  threshold: number;
}

export interface TriggerCapture {
  reason: TriggerReason;
  at: number;
  profile: CpuProfile;
}

export interface TriggerOptions {
  /** Capture when the event-loop delay p99 over a check interval exceeds this (ms). Default off (PERISCOPE_PROFILING_TRIGGER_EVENT_LOOP_P99). */
  eventLoopP99Ms?: number;
  /** Capture when process CPU over a check interval exceeds this (% of one core). Default off (PERISCOPE_PROFILING_TRIGGER_CPU_PERCENT). */
  cpuPercent?: number;
  /** How often readings are taken. Default 1000 ms. */
  checkIntervalMs?: number;
  /** Length of a capture. Default 10000 ms (PERISCOPE_PROFILING_TRIGGER_CAPTURE). */
  captureMs?: number;
  /** Quiet time after a capture. Default 60000 ms. */
  cooldownMs?: number;
  /** Captures kept for captures(). Default 5. */
  retention?: number;
  hz?: number;
  labels?: Record<string, string>;
  /** Receives each capture. Errors are logged and counted. */
  onCapture?: (capture: TriggerCapture) => void;
  logger?: Logger;
  env?: Env;
}

const KEYS = [
  'eventLoopP99Ms',
  'cpuPercent',
  'checkIntervalMs',
  'captureMs',
  'cooldownMs',
  'retention',
  'hz',
  'labels',
  'onCapture',
  'logger',
  'env',
] as const;

export class ProfileTrigger {
  private readonly delay: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private readonly kept: TriggerCapture[] = [];
  private readonly log: Logger;
  private cpu = process.cpuUsage();
  private cpuAt = performance.now();
  private quietUntil = 0;
  private capturing: AbortController | undefined;
  private closed = false;
  /** Captures or callbacks that failed (logged). */
  errors = 0;
  private readonly o: {
    loop: number | undefined;
    cpu: number | undefined;
    captureMs: number;
    cooldownMs: number;
    retention: number;
    hz: number;
    labels: Record<string, string>;
    onCapture: TriggerOptions['onCapture'];
  };

  constructor(options: TriggerOptions = {}) {
    const r = reader(options.env, 'trigger');
    r.rejectUnknown(options, KEYS);
    const loop = r.number('eventLoopP99Ms', options.eventLoopP99Ms, {
      env: 'PERISCOPE_PROFILING_TRIGGER_EVENT_LOOP_P99',
      default: undefined,
      min: 0,
    });
    const cpu = r.number('cpuPercent', options.cpuPercent, {
      env: 'PERISCOPE_PROFILING_TRIGGER_CPU_PERCENT',
      default: undefined,
      min: 0,
    });
    if (loop === undefined && cpu === undefined)
      r.fail('eventLoopP99Ms', 'eventLoopP99Ms and/or cpuPercent (a trigger needs a threshold)', undefined);
    const check = r.duration('checkIntervalMs', options.checkIntervalMs, { default: 1000, min: 10, max: 3_600_000 });
    this.o = {
      loop,
      cpu,
      captureMs: r.duration('captureMs', options.captureMs, {
        env: 'PERISCOPE_PROFILING_TRIGGER_CAPTURE',
        default: 10_000,
        min: 10,
        max: 3_600_000,
      }),
      cooldownMs: r.duration('cooldownMs', options.cooldownMs, { default: 60_000, min: 0, max: 86_400_000 }),
      retention: r.integer('retention', options.retention, { default: 5, min: 1, max: 1000 }),
      hz: r.number('hz', options.hz, HZ),
      labels: checkLabels(r, options.labels),
      onCapture: options.onCapture,
    };
    this.log = options.logger ?? NOOP_LOGGER;
    this.delay = monitorEventLoopDelay({ resolution: 5 });
    this.delay.enable();
    this.timer = setInterval(() => this.check(), check);
    this.timer.unref();
  }

  /** Captures so far, oldest first (at most `retention`). */
  captures(): TriggerCapture[] {
    return [...this.kept];
  }

  /** Takes the readings now; returns the reason when it starts a capture. */
  check(): TriggerReason | undefined {
    const p99 = this.delay.count === 0 ? 0 : this.delay.percentile(99) / 1e6;
    this.delay.reset();
    const now = performance.now();
    const used = process.cpuUsage(this.cpu);
    const cpuPercent = ((used.user + used.system) / 1000 / Math.max(1, now - this.cpuAt)) * 100;
    this.cpu = process.cpuUsage();
    this.cpuAt = now;
    if (this.closed || this.capturing !== undefined || Date.now() < this.quietUntil) return undefined;
    let reason: TriggerReason | undefined;
    if (this.o.loop !== undefined && p99 > this.o.loop)
      reason = { kind: 'event_loop_p99', value: p99, threshold: this.o.loop };
    else if (this.o.cpu !== undefined && cpuPercent > this.o.cpu)
      reason = { kind: 'cpu', value: cpuPercent, threshold: this.o.cpu };
    if (reason !== undefined) this.capture(reason);
    return reason;
  }

  private capture(reason: TriggerReason): void {
    const controller = new AbortController();
    this.capturing = controller;
    const labels = { ...this.o.labels, trigger: reason.kind };
    profile(this.o.captureMs, { hz: this.o.hz, labels, signal: controller.signal })
      .then((p) => {
        const c = { reason, at: Date.now(), profile: p };
        this.kept.push(c);
        while (this.kept.length > this.o.retention) this.kept.shift();
        this.o.onCapture?.(c);
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        this.errors++;
        this.log.error('profile trigger: capture failed', { error: err instanceof Error ? err.message : String(err) });
      })
      .finally(() => {
        this.capturing = undefined;
        this.quietUntil = Date.now() + this.o.cooldownMs;
      });
  }

  /** Stops watching; a capture in progress is abandoned. Idempotent; settles at once. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      clearInterval(this.timer);
      this.delay.disable();
      this.capturing?.abort();
    }
    return Promise.resolve();
  }
}

export function startProfileTrigger(options?: TriggerOptions): ProfileTrigger {
  return new ProfileTrigger(options);
}
