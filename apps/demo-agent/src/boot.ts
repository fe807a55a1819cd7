// Imported first by main.ts: the continuous CPU profiler and the heap sampler start before the rest
// of the app is loaded (only @periscope/profiling is loaded here), so the first start is cheap and
// every later compilation is attributed.
import { startHeapProfiler, startProfiler, type ContinuousProfiler, type HeapProfiler } from '@periscope/profiling';

export interface Profilers {
  cpu: ContinuousProfiler;
  heap: HeapProfiler;
}

let profilers: Profilers | undefined;

/** The continuous CPU profiler and the heap sampler, started once per process. */
export function startProfilers(): Profilers {
  profilers ??= {
    cpu: startProfiler({ labels: { service: 'periscope-demo-agent' } }),
    heap: startHeapProfiler({ labels: { service: 'periscope-demo-agent' } }),
  };
  return profilers;
}

startProfilers();
