// The one V8 CPU sampler of the process, reached through `node:inspector` (no native addon).
//
// Why captures are console profiles that overlap: V8's inspector disposes its CpuProfiler when
// the last profile stops and creates a new one at the next start, and creating one logs every
// compiled function on the main thread. Measured here with 100k compiled functions, a
// Profiler.stop + Profiler.start rotation blocks the main thread 330–560 ms. While at least one
// profile is running the profiler stays alive, so a rotation starts the next window's profile
// before it stops the previous one: measured 0.3–0.7 ms with the same 100k functions. Every
// capture (continuous windows, one-shot profile(), triggers) is such a profile, so they share one
// sampler and never pay the code-logging cost again while any capture runs.
import type * as Inspector from 'node:inspector';
import { InspectorError } from './errors';

export interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  /** 0-based, as V8 reports it. */
  lineNumber: number;
  columnNumber: number;
}

export interface RawCpuNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
  positionTicks?: Array<{ line: number; ticks: number }>;
}

/** Chrome's .cpuprofile format (what the inspector's Profiler domain returns). Times in µs. */
export interface RawCpuProfile {
  nodes: RawCpuNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** A capture in progress. */
export interface CaptureHandle {
  readonly title: string;
  /** The interval the sampler runs at (set when the first open capture started it). */
  readonly intervalUs: number;
  /** Wall clock at the start, ms since the epoch. */
  readonly startedAt: number;
}

type Post = (method: string, params?: object) => unknown;

let loaded: typeof Inspector | undefined;
/** node:inspector, loaded on first use: builds without it fail at the first capture, not at import. */
function inspector(): typeof Inspector {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require('node:inspector') as typeof Inspector;
    } catch (err) {
      throw new InspectorError('require(node:inspector)', err);
    }
  }
  return loaded;
}

function openSession(): { session: Inspector.Session; post: Post } {
  const session = new (inspector().Session)();
  session.connect();
  const post: Post = (method, params) => {
    let done = false;
    let failure: unknown;
    let result: unknown;
    session.post(method, params ?? {}, (err, res) => {
      done = true;
      failure = err;
      result = res;
    });
    // An in-process session answers synchronously; anything else is a broken session.
    if (!done) throw new InspectorError(method, 'no synchronous answer');
    if (failure) throw new InspectorError(method, failure);
    return result;
  };
  return { session, post };
}

class CpuSampler {
  private session: Inspector.Session | undefined;
  private post: Post | undefined;
  private open = new Set<string>();
  private seq = 0;
  private intervalUs = 0;
  private readonly delivered = new Map<string, RawCpuProfile>();

  /** Captures in progress. */
  get running(): number {
    return this.open.size;
  }

  begin(intervalUs: number): CaptureHandle {
    if (this.open.size === 0) this.connect(intervalUs);
    const title = `periscope:${process.pid}:${++this.seq}`;
    inspector().console.profile(title);
    this.open.add(title);
    return { title, intervalUs: this.intervalUs, startedAt: Date.now() };
  }

  /** Stops one capture and returns its profile. */
  end(handle: CaptureHandle): RawCpuProfile {
    if (!this.open.delete(handle.title)) throw new InspectorError('console.profileEnd', `${handle.title} is not open`);
    try {
      inspector().console.profileEnd(handle.title);
    } finally {
      if (this.open.size === 0) this.disconnect();
    }
    const profile = this.delivered.get(handle.title);
    this.delivered.delete(handle.title);
    if (profile === undefined)
      throw new InspectorError('console.profileEnd', `no profile delivered for ${handle.title}`);
    return profile;
  }

  /** Begins the next capture, then ends `handle`: the sampler never stops in between. */
  rotate(handle: CaptureHandle): { profile: RawCpuProfile; next: CaptureHandle } {
    const next = this.begin(handle.intervalUs);
    return { profile: this.end(handle), next };
  }

  private connect(intervalUs: number): void {
    let opened: { session: Inspector.Session; post: Post };
    try {
      opened = openSession();
    } catch (err) {
      throw err instanceof InspectorError ? err : new InspectorError('Session.connect', err);
    }
    this.session = opened.session;
    this.post = opened.post;
    this.session.on('Profiler.consoleProfileFinished', (message) => {
      const { title, profile } = message.params as { title?: string; profile: RawCpuProfile };
      if (title !== undefined && this.open.has(title) === false && title.startsWith('periscope:'))
        this.delivered.set(title, profile);
    });
    try {
      this.post('Profiler.enable');
      this.post('Profiler.setSamplingInterval', { interval: Math.max(1, Math.round(intervalUs)) });
    } catch (err) {
      this.disconnect();
      throw err;
    }
    this.intervalUs = intervalUs;
  }

  private disconnect(): void {
    const session = this.session;
    this.session = undefined;
    this.post = undefined;
    session?.disconnect();
  }
}

/** The process-wide sampler: one inspector session, shared by every capture. */
export const cpuSampler = new CpuSampler();

/** Opens a short-lived session for other domains (HeapProfiler); closed by the caller. */
export function openInspectorSession(): { session: Inspector.Session; post: Post; close(): void } {
  const { session, post } = openSession();
  return { session, post, close: () => session.disconnect() };
}
