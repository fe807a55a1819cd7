// Sampling heap profiles (V8's HeapProfiler.startSampling): what allocated the memory that is
// still alive, as a call tree with the same exports as CPU profiles (an allocation flame graph),
// in windows with bounded retention, plus heap statistics and a leak hint — sustained growth of
// the sampled live bytes across windows and the functions whose live bytes grew most.
import v8 from 'node:v8';
import { NOOP_LOGGER, type Env, type Logger } from '@periscope/core';
import { InvalidProfileError, ProfilerClosedError } from './errors';
import { reader, checkLabels } from './config';
import { toFlameGraphHtml, type FlameGraphOptions } from './flamegraph';
import { toD3, toFolded, toSpeedscope, type D3Node, type SpeedscopeFile } from './formats';
import { openInspectorSession, type CallFrame } from './inspector';
import { toPprof } from './pprof';
import { SourceMapper } from './sourcemap';
import {
  ProfileTree,
  frameFromCallFrame,
  frameKey,
  topFunctions,
  type TopFunction,
  type TopOptions,
  type TreeNode,
} from './tree';

export interface RawHeapNode {
  callFrame: CallFrame;
  selfSize: number;
  id: number;
  children: RawHeapNode[];
}

/** Chrome's .heapprofile format (the inspector's SamplingHeapProfile). */
export interface RawHeapProfile {
  head: RawHeapNode;
  samples?: Array<{ size: number; nodeId: number; ordinal: number }>;
}

export class HeapProfile extends ProfileTree {
  readonly kind = 'heap' as const;
  readonly raw: RawHeapProfile;
  /** The sampling interval, bytes (the pprof period). */
  readonly heapIntervalBytes: number;

  constructor(
    raw: RawHeapProfile,
    meta: { startedAt?: number; intervalBytes?: number; labels?: Record<string, string> } = {},
  ) {
    if (typeof raw !== 'object' || raw === null || typeof raw.head !== 'object' || raw.head === null)
      throw new InvalidProfileError('a heap profile needs a head node');
    const nodes: TreeNode[] = [];
    const indexOf = new Map<number, number>();
    const mapper = new SourceMapper();
    const queue: Array<[RawHeapNode, number]> = [[raw.head, -1]];
    for (let q = 0; q < queue.length; q++) {
      const [n, parent] = queue[q];
      const index = nodes.length;
      indexOf.set(n.id, index);
      nodes.push({
        frame: mapper.map(frameFromCallFrame(n.callFrame)),
        parent,
        children: [],
        self: n.selfSize ?? 0,
        selfCount: 0,
      });
      if (parent >= 0) nodes[parent].children.push(index);
      for (const c of n.children ?? []) queue.push([c, index]);
    }
    for (const s of raw.samples ?? []) {
      const i = indexOf.get(s.nodeId);
      if (i !== undefined) nodes[i].selfCount++;
    }
    super(nodes, meta.startedAt ?? Date.now(), 0, meta.labels ?? {});
    this.raw = raw;
    this.heapIntervalBytes = meta.intervalBytes ?? 0;
  }

  top(options?: TopOptions): TopFunction[] {
    return topFunctions(this, options);
  }
  /** gzipped pprof: inuse_objects/count (samples) and inuse_space/bytes. */
  toPprof(): Buffer {
    return toPprof(this);
  }
  /** Chrome DevTools' .heapprofile (JSON.stringify it to write a file). */
  toHeapprofile(): RawHeapProfile {
    return this.raw;
  }
  toSpeedscope(): SpeedscopeFile {
    return toSpeedscope(this, 'heap');
  }
  /** `a;b;c <bytes>` per line. */
  toFolded(): string {
    return toFolded(this);
  }
  toD3(): D3Node {
    return toD3(this);
  }
  toFlameGraphHtml(options?: FlameGraphOptions): string {
    return toFlameGraphHtml(this, options);
  }
}

export interface HeapStats {
  usedHeapBytes: number;
  totalHeapBytes: number;
  heapLimitBytes: number;
  externalBytes: number;
  mallocedBytes: number;
}

export function heapStatistics(): HeapStats {
  const s = v8.getHeapStatistics();
  return {
    usedHeapBytes: s.used_heap_size,
    totalHeapBytes: s.total_heap_size,
    heapLimitBytes: s.heap_size_limit,
    externalBytes: s.external_memory,
    mallocedBytes: s.malloced_memory,
  };
}

export interface HeapWindow {
  at: number;
  /** Sampled live bytes (estimate of what the sampled call sites hold). */
  sampledBytes: number;
  stats: HeapStats;
  profile: HeapProfile;
}

export interface LeakHint {
  /** True when the sampled live bytes grew across (nearly) every window and by a meaningful amount. */
  suspected: boolean;
  windows: number;
  growthBytes: number;
  bytesPerMinute: number;
  /** Functions whose live bytes grew most between the first and last window. */
  suspects: Array<{ name: string; file: string; line: number; growthBytes: number }>;
}

export interface HeapProfilerOptions {
  /** Mean bytes between samples. Default 524288 (PERISCOPE_PROFILING_HEAP_INTERVAL). */
  samplingIntervalBytes?: number;
  /** A window snapshot is taken this often. Default 60000 ms (PERISCOPE_PROFILING_HEAP_WINDOW). */
  windowMs?: number;
  /** Windows kept. Default 10 (PERISCOPE_PROFILING_HEAP_RETENTION). */
  retention?: number;
  labels?: Record<string, string>;
  logger?: Logger;
  env?: Env;
}

export class HeapProfiler {
  private readonly session: ReturnType<typeof openInspectorSession>;
  private readonly kept: HeapWindow[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly intervalBytes: number;
  private readonly retention: number;
  private readonly labels: Record<string, string>;
  private readonly log: Logger;
  private closed = false;
  /** Snapshots that failed (logged). */
  errors = 0;

  constructor(options: HeapProfilerOptions = {}) {
    const r = reader(options.env, 'heapProfiler');
    r.rejectUnknown(options, ['samplingIntervalBytes', 'windowMs', 'retention', 'labels', 'logger', 'env']);
    this.intervalBytes = r.integer('samplingIntervalBytes', options.samplingIntervalBytes, {
      env: 'PERISCOPE_PROFILING_HEAP_INTERVAL',
      default: 512 * 1024,
      min: 1,
      max: 2 ** 30,
    });
    const windowMs = r.duration('windowMs', options.windowMs, {
      env: 'PERISCOPE_PROFILING_HEAP_WINDOW',
      default: 60_000,
      min: 10,
      max: 86_400_000,
    });
    this.retention = r.integer('retention', options.retention, {
      env: 'PERISCOPE_PROFILING_HEAP_RETENTION',
      default: 10,
      min: 1,
      max: 10_000,
    });
    this.labels = checkLabels(r, options.labels);
    this.log = options.logger ?? NOOP_LOGGER;
    this.session = openInspectorSession();
    this.session.post('HeapProfiler.enable');
    this.session.post('HeapProfiler.startSampling', { samplingInterval: this.intervalBytes });
    this.timer = setInterval(() => this.snapshot(), windowMs);
    this.timer.unref();
  }

  /** The live sampled allocations now (what /debug/pprof/heap serves). */
  profile(): HeapProfile {
    if (this.closed) throw new ProfilerClosedError('heap profiler');
    const { profile } = this.session.post('HeapProfiler.getSamplingProfile') as { profile: RawHeapProfile };
    return new HeapProfile(profile, { intervalBytes: this.intervalBytes, labels: this.labels });
  }

  /** Takes a window now (also done every windowMs). */
  snapshot(): HeapWindow | undefined {
    if (this.closed) return undefined;
    let profile: HeapProfile;
    try {
      profile = this.profile();
    } catch (err) {
      this.errors++;
      this.log.error('heap profiler: snapshot failed', { error: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
    const w = { at: Date.now(), sampledBytes: profile.totalValue, stats: heapStatistics(), profile };
    this.kept.push(w);
    while (this.kept.length > this.retention) this.kept.shift();
    return w;
  }

  windows(): HeapWindow[] {
    return [...this.kept];
  }

  latest(): HeapWindow | undefined {
    return this.kept.at(-1);
  }

  /** Growth of the sampled live bytes across the retained windows (needs 3). */
  leakHint(minGrowthBytes = 1024 * 1024): LeakHint {
    const ws = this.kept;
    const none: LeakHint = { suspected: false, windows: ws.length, growthBytes: 0, bytesPerMinute: 0, suspects: [] };
    if (ws.length < 3) return none;
    const first = ws[0];
    const last = ws[ws.length - 1];
    const growth = last.sampledBytes - first.sampledBytes;
    let rising = 0;
    for (let i = 1; i < ws.length; i++) if (ws[i].sampledBytes > ws[i - 1].sampledBytes) rising++;
    const minutes = Math.max(1e-9, (last.at - first.at) / 60_000);
    const before = new Map(first.profile.top({ limit: Infinity }).map((f) => [frameKey(f), f.selfMs]));
    const suspects = last.profile
      .top({ limit: Infinity })
      .map((f) => ({
        name: f.name,
        file: f.file,
        line: f.line,
        growthBytes: f.selfMs - (before.get(frameKey(f)) ?? 0),
      }))
      .filter((f) => f.growthBytes > 0)
      .sort((a, b) => b.growthBytes - a.growthBytes)
      .slice(0, 5);
    return {
      suspected: growth >= minGrowthBytes && rising >= Math.ceil((ws.length - 1) * 0.75),
      windows: ws.length,
      growthBytes: growth,
      bytesPerMinute: growth / minutes,
      suspects,
    };
  }

  /** Stops sampling and closes the inspector session. Idempotent; settles at once. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    clearInterval(this.timer);
    try {
      this.session.post('HeapProfiler.stopSampling');
    } catch (err) {
      this.log.warn('heap profiler: stopSampling failed', { error: err instanceof Error ? err.message : String(err) });
    }
    this.session.close();
    return Promise.resolve();
  }
}

export function startHeapProfiler(options?: HeapProfilerOptions): HeapProfiler {
  return new HeapProfiler(options);
}
