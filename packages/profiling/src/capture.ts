// One-shot CPU capture: profile(ms) samples the next `ms` milliseconds. It shares the process's one
// sampler with a running continuous profiler (an overlapping capture costs no restart).
import { resolveCaptureOptions, type CaptureOptions } from './config';
import { CpuProfile } from './cpu';
import { ProfilerClosedError } from './errors';
import { cpuSampler } from './inspector';

export function profile(ms: number, options: CaptureOptions = {}): Promise<CpuProfile> {
  const { hz, labels } = resolveCaptureOptions(ms, options);
  const signal = options.signal;
  signal?.throwIfAborted();
  const handle = cpuSampler.begin(1e6 / hz);
  return new Promise<CpuProfile>((resolve, reject) => {
    const finish = (aborted: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try {
        const raw = cpuSampler.end(handle);
        if (aborted) reject(signal?.reason);
        else
          resolve(
            CpuProfile.fromCpuprofile(raw, {
              startedAt: handle.startedAt,
              requestedIntervalUs: handle.intervalUs,
              labels,
            }),
          );
      } catch (err) {
        reject(err);
      }
    };
    const onAbort = () => finish(true);
    const timer = setTimeout(() => finish(false), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** An open-ended capture: stop() returns what was sampled since start. */
export interface Capture {
  /** Ends the capture and returns its profile. Throws ProfilerClosedError when called twice. */
  stop(): CpuProfile;
  /** Ends the capture and discards it. Idempotent. */
  cancel(): void;
}

/** Starts sampling now until stop() (e.g. around a batch job); shares the process's one sampler. */
export function startCapture(options: Omit<CaptureOptions, 'signal'> = {}): Capture {
  const { hz, labels } = resolveCaptureOptions(1, options);
  const handle = cpuSampler.begin(1e6 / hz);
  let open = true;
  return {
    stop() {
      if (!open) throw new ProfilerClosedError('capture');
      open = false;
      const raw = cpuSampler.end(handle);
      return CpuProfile.fromCpuprofile(raw, {
        startedAt: handle.startedAt,
        requestedIntervalUs: handle.intervalUs,
        labels,
      });
    },
    cancel() {
      if (!open) return;
      open = false;
      cpuSampler.end(handle);
    },
  };
}
