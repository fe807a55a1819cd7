// Continuous CPU profiling in windows with bounded retention. A rotation begins the next window's
// capture before it ends the previous one (see inspector.ts), so V8 never re-logs compiled code:
// the main-thread pause of a rotation is the read of one window, not a profiler restart. Windows
// are kept as the inspector returned them and parsed on first use, off the rotation path.
import { performance } from 'node:perf_hooks';
import type { Logger } from '@periscope/core';
import {
  resolveProfilerOptions,
  type CaptureOptions,
  type ProfilerOptions,
  type ResolvedProfilerOptions,
} from './config';
import { profile } from './capture';
import { CpuProfile } from './cpu';
import { ProfilerClosedError } from './errors';
import { cpuSampler, type CaptureHandle, type RawCpuProfile } from './inspector';
import { createProfilerInstruments, type ProfilerInstruments } from './instrumentation';

export interface ProfilerStats {
  /** Windows finished since start. */
  windows: number;
  /** Windows held now (≤ retention). */
  retained: number;
  /** Main-thread time of the longest rotation so far, ms. */
  maxPauseMs: number;
  /** Main-thread time of the last rotation, ms. */
  lastPauseMs: number;
  /** Main-thread time of start(), ms (one-time; V8 logs the code compiled so far). */
  startPauseMs: number;
  /** Rotations or window callbacks that failed. */
  errors: number;
}

class Window {
  private parsed: CpuProfile | undefined;
  constructor(
    private readonly raw: RawCpuProfile,
    private readonly startedAt: number,
    private readonly intervalUs: number,
    private readonly labels: Record<string, string>,
  ) {}
  get profile(): CpuProfile {
    this.parsed ??= CpuProfile.fromCpuprofile(this.raw, {
      startedAt: this.startedAt,
      requestedIntervalUs: this.intervalUs,
      labels: this.labels,
    });
    return this.parsed;
  }
}

export class ContinuousProfiler {
  private readonly options: ResolvedProfilerOptions;
  private readonly instruments: ProfilerInstruments;
  private readonly log: Logger;
  private readonly kept: Window[] = [];
  private handle: CaptureHandle | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly counts: ProfilerStats = {
    windows: 0,
    retained: 0,
    maxPauseMs: 0,
    lastPauseMs: 0,
    startPauseMs: 0,
    errors: 0,
  };

  constructor(options: ProfilerOptions = {}) {
    this.options = resolveProfilerOptions(options);
    this.instruments = createProfilerInstruments(this.options.metrics);
    this.log = this.options.logger;
    const t0 = performance.now();
    this.handle = cpuSampler.begin(1e6 / this.options.hz);
    this.counts.startPauseMs = performance.now() - t0;
    if (Math.abs(this.handle.intervalUs - 1e6 / this.options.hz) > 1)
      this.log.warn('profiler: the sampler already runs at another rate; keeping it', {
        requestedHz: this.options.hz,
        hz: Math.round(1e6 / this.handle.intervalUs),
      });
    this.timer = setInterval(() => this.rotate(), this.options.windowMs);
    this.timer.unref();
  }

  /** Finished windows, oldest first (at most `retention`). */
  windows(): CpuProfile[] {
    return this.kept.map((w) => w.profile);
  }

  /** The newest finished window, if any. */
  latest(): CpuProfile | undefined {
    return this.kept.at(-1)?.profile;
  }

  /** Samples the next `ms` on the same sampler (no restart); rejects once the profiler is stopped. */
  profile(ms: number, options: Omit<CaptureOptions, 'hz'> = {}): Promise<CpuProfile> {
    if (this.closed) return Promise.reject(new ProfilerClosedError('profiler'));
    return profile(ms, { ...options, labels: { ...this.options.labels, ...options.labels } });
  }

  stats(): ProfilerStats {
    return { ...this.counts, retained: this.kept.length };
  }

  /** Ends the current window (kept, so latest() has it) and stops sampling. Idempotent. */
  stop(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    const handle = this.handle;
    this.handle = undefined;
    if (handle !== undefined) {
      try {
        this.keep(cpuSampler.end(handle), handle, false);
      } catch (err) {
        this.failed('rotate', err);
      }
    }
    return Promise.resolve();
  }

  /** Same as stop(). */
  close(): Promise<void> {
    return this.stop();
  }

  private rotate(): void {
    const handle = this.handle;
    if (handle === undefined) return;
    const t0 = performance.now();
    let raw: RawCpuProfile;
    try {
      const rotated = cpuSampler.rotate(handle);
      this.handle = rotated.next;
      raw = rotated.profile;
    } catch (err) {
      this.failed('rotate', err);
      return;
    }
    const pause = performance.now() - t0;
    this.counts.lastPauseMs = pause;
    this.counts.maxPauseMs = Math.max(this.counts.maxPauseMs, pause);
    this.instruments.window(raw.samples?.length ?? 0, pause / 1000);
    this.keep(raw, handle, true);
  }

  /** `defer`: the window callback (which parses the window) runs on a later tick, off the rotation. */
  private keep(raw: RawCpuProfile, handle: CaptureHandle, defer: boolean): void {
    const w = new Window(raw, handle.startedAt, handle.intervalUs, this.options.labels);
    this.kept.push(w);
    this.counts.windows++;
    while (this.kept.length > this.options.retention) this.kept.shift();
    this.instruments.retained(this.kept.length);
    const onWindow = this.options.onWindow;
    if (onWindow === undefined) return;
    const call = () => {
      try {
        onWindow(w.profile);
      } catch (err) {
        this.failed('on_window', err);
      }
    };
    if (defer) setImmediate(call);
    else call();
  }

  private failed(stage: 'rotate' | 'on_window', err: unknown): void {
    this.counts.errors++;
    this.instruments.error(stage);
    this.log.error(`profiler: ${stage} failed`, { error: err instanceof Error ? err.message : String(err) });
  }
}

/** Starts continuous CPU profiling in windows (see ProfilerOptions for defaults). */
export function startProfiler(options?: ProfilerOptions): ContinuousProfiler {
  return new ContinuousProfiler(options);
}
