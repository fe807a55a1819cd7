// A CPU profile: V8's sampled call tree with every sample weighted by the real time it stands for
// (the gap to the next sample), not by count × the requested interval — V8 delivers ~98 % of the
// requested samples at 100 Hz and fewer under load, so counting would misstate time.
import { InvalidProfileError } from './errors';
import { SourceMapper } from './sourcemap';
import type { RawCpuProfile } from './inspector';
import { toFlameGraphHtml, type FlameGraphOptions } from './flamegraph';
import { toD3, toFolded, toSpeedscope, type D3Node, type SpeedscopeFile } from './formats';
import { toPprof } from './pprof';
import {
  ProfileTree,
  frameFromCallFrame,
  topFunctions,
  type TopFunction,
  type TopOptions,
  type TreeNode,
} from './tree';

export interface CpuProfileMeta {
  /** Wall clock of the start, ms since the epoch. Default: now minus the profile's length. */
  startedAt?: number;
  /** The interval that was asked for, µs. */
  requestedIntervalUs?: number;
  labels?: Record<string, string>;
}

export class CpuProfile extends ProfileTree {
  readonly kind = 'cpu' as const;
  /** The inspector's profile, as captured (what toCpuprofile() returns). */
  readonly raw: RawCpuProfile;
  /** Tree node of each sample, in time order. */
  readonly sampleNodes: Int32Array;
  /** Real time each sample stands for, µs. */
  readonly sampleWeightsUs: Float64Array;
  /** Mean measured gap between samples, µs (the pprof period). */
  readonly intervalUs: number;
  readonly requestedIntervalUs: number;

  private constructor(
    raw: RawCpuProfile,
    nodes: TreeNode[],
    sampleNodes: Int32Array,
    weights: Float64Array,
    meta: CpuProfileMeta,
  ) {
    const durationMs = Math.max(0, raw.endTime - raw.startTime) / 1000;
    super(nodes, meta.startedAt ?? Date.now() - durationMs, durationMs, meta.labels ?? {});
    this.raw = raw;
    this.sampleNodes = sampleNodes;
    this.sampleWeightsUs = weights;
    const n = sampleNodes.length;
    this.intervalUs = n > 0 ? (raw.endTime - raw.startTime) / n : (meta.requestedIntervalUs ?? 0);
    this.requestedIntervalUs = meta.requestedIntervalUs ?? this.intervalUs;
  }

  /** Reads a profile in Chrome's .cpuprofile format (an object or its JSON text). */
  static fromCpuprofile(input: RawCpuProfile | string, meta: CpuProfileMeta = {}): CpuProfile {
    let raw: unknown;
    try {
      raw = typeof input === 'string' ? JSON.parse(input) : input;
    } catch (err) {
      throw new InvalidProfileError(`not JSON: ${(err as Error).message}`);
    }
    checkRaw(raw);
    const { nodes, indexOf } = buildTree(raw);
    const samples = raw.samples ?? [];
    const deltas = raw.timeDeltas ?? [];
    const sampleNodes = new Int32Array(samples.length);
    const weights = new Float64Array(samples.length);
    // Sample i happened at t_i = startTime + Σ deltas[0..i]; it stands for [t_i, t_{i+1}).
    const times = new Float64Array(samples.length);
    let t = raw.startTime;
    for (let i = 0; i < samples.length; i++) {
      t += deltas[i] ?? 0;
      times[i] = t;
    }
    for (let i = 0; i < samples.length; i++) {
      const index = indexOf.get(samples[i]);
      if (index === undefined) throw new InvalidProfileError(`sample ${i} names unknown node ${samples[i]}`);
      const next = i + 1 < samples.length ? times[i + 1] : Math.max(raw.endTime, times[i]);
      const w = Math.max(0, next - times[i]);
      sampleNodes[i] = index;
      weights[i] = w;
      nodes[index].self += w;
      nodes[index].selfCount += 1;
    }
    return new CpuProfile(raw, nodes, sampleNodes, weights, meta);
  }

  top(options?: TopOptions): TopFunction[] {
    return topFunctions(this, options);
  }

  /** gzipped pprof protobuf (samples/count and cpu/nanoseconds; period = the measured interval). */
  toPprof(): Buffer {
    return toPprof(this);
  }

  /** Chrome DevTools' .cpuprofile (the inspector format; JSON.stringify it to write a file). */
  toCpuprofile(): RawCpuProfile {
    return this.raw;
  }

  /** speedscope's file format, samples in time order with their real weights (µs). */
  toSpeedscope(): SpeedscopeFile {
    return toSpeedscope(this);
  }

  /** flamegraph.pl's folded stacks: `a;b;c <µs>` per line. */
  toFolded(): string {
    return toFolded(this);
  }

  /** d3-flame-graph's JSON: `{ name, value, children }`, value = total µs. */
  toD3(): D3Node {
    return toD3(this);
  }

  /** A self-contained interactive flame graph (one HTML file, no network). */
  toFlameGraphHtml(options?: FlameGraphOptions): string {
    return toFlameGraphHtml(this, options);
  }
}

function checkRaw(raw: unknown): asserts raw is RawCpuProfile {
  const r = raw as RawCpuProfile;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.nodes) || r.nodes.length === 0)
    throw new InvalidProfileError('a .cpuprofile needs a non-empty nodes array');
  if (typeof r.startTime !== 'number' || typeof r.endTime !== 'number')
    throw new InvalidProfileError('a .cpuprofile needs numeric startTime and endTime');
  if (r.samples !== undefined && (!Array.isArray(r.samples) || !Array.isArray(r.timeDeltas)))
    throw new InvalidProfileError('samples and timeDeltas must be arrays');
  for (const n of r.nodes) {
    if (typeof n?.id !== 'number' || typeof n.callFrame !== 'object' || n.callFrame === null)
      throw new InvalidProfileError('every node needs a numeric id and a callFrame');
  }
}

/** Nodes re-indexed breadth-first from the root, so parents precede children. */
function buildTree(raw: RawCpuProfile): { nodes: TreeNode[]; indexOf: Map<number, number> } {
  const byId = new Map(raw.nodes.map((n) => [n.id, n]));
  const childIds = new Set<number>();
  for (const n of raw.nodes) for (const c of n.children ?? []) childIds.add(c);
  const root = raw.nodes.find((n) => !childIds.has(n.id));
  if (root === undefined) throw new InvalidProfileError('no root node (every node is some node’s child)');
  const nodes: TreeNode[] = [];
  const indexOf = new Map<number, number>();
  const mapper = new SourceMapper();
  const queue: Array<[number, number]> = [[root.id, -1]];
  for (let q = 0; q < queue.length; q++) {
    const [id, parent] = queue[q];
    const raw = byId.get(id);
    if (raw === undefined) throw new InvalidProfileError(`node ${id} is named as a child but missing`);
    if (indexOf.has(id)) throw new InvalidProfileError(`node ${id} appears twice in the tree`);
    const index = nodes.length;
    indexOf.set(id, index);
    nodes.push({ frame: mapper.map(frameFromCallFrame(raw.callFrame)), parent, children: [], self: 0, selfCount: 0 });
    if (parent >= 0) nodes[parent].children.push(index);
    for (const c of raw.children ?? []) queue.push([c, index]);
  }
  return { nodes, indexOf };
}
