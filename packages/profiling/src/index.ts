// Public surface of @periscope/profiling.
export { profile, startCapture } from './capture';
export type { Capture } from './capture';
export { startProfiler, ContinuousProfiler } from './profiler';
export type { ProfilerStats } from './profiler';
export { CpuProfile } from './cpu';
export type { CpuProfileMeta } from './cpu';
export { topFunctions, frameLabel } from './tree';
export type { Frame, TreeNode, TopFunction, TopOptions, ProfileKind } from './tree';
export type { ProfileTree } from './tree';
export type { RawCpuProfile, RawCpuNode, CallFrame } from './inspector';
export type { D3Node, SpeedscopeFile, SpeedscopeFrame, SpeedscopeSampledProfile } from './formats';
export type { FlameGraphOptions } from './flamegraph';
export type { CaptureOptions, ProfilerOptions } from './config';
export {
  ProfilingError,
  ProfilingConfigError,
  InspectorError,
  ProfilerClosedError,
  InvalidProfileError,
  PushError,
} from './errors';
export type { ProfilingErrorCode } from './errors';
export {
  FunctionProfiler,
  createFunctionProfiler,
  functionProfiler,
  profileFunction,
  profileBlock,
  Profiled,
  stats,
} from './timing';
export type { FunctionStats, FunctionProfilerOptions, ProfileFunctionOptions, ProfiledOptions } from './timing';
export { EventLoopMonitor, monitorEventLoop } from './eventloop';
export type { EventLoopOptions, EventLoopSnapshot } from './eventloop';
export { HeapProfile, HeapProfiler, startHeapProfiler, heapStatistics } from './heap';
export type { RawHeapProfile, RawHeapNode, HeapStats, HeapWindow, LeakHint, HeapProfilerOptions } from './heap';
export { ProfileTrigger, startProfileTrigger } from './triggers';
export type { TriggerOptions, TriggerReason, TriggerCapture } from './triggers';
export { PyroscopeExporter, createPyroscopeExporter, pyroscopeName } from './pyroscope';
export type { PyroscopeOptions, PushStats, PushableProfile } from './pyroscope';
