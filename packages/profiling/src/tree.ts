// The call tree every profile is reduced to: one node per distinct stack path, each with a self
// value (CPU: microseconds of real time; heap: bytes) and a self count (samples). Every export
// (pprof, folded, d3, speedscope, flame graph, top functions) reads this one shape.

/** A function as the profiles name it. `line` and `column` are 1-based (0 = unknown). */
export interface Frame {
  name: string;
  file: string;
  line: number;
  column: number;
}

export interface TreeNode {
  frame: Frame;
  /** Index of the parent node; -1 for the root. */
  parent: number;
  children: number[];
  /** CPU: µs of real time spent in this node itself; heap: bytes. */
  self: number;
  /** Samples that ended in this node. */
  selfCount: number;
}

export type ProfileKind = 'cpu' | 'heap';

export interface TopFunction {
  name: string;
  file: string;
  line: number;
  /** CPU: milliseconds; heap: bytes (named ms for one shape; see `unit`). */
  selfMs: number;
  totalMs: number;
  /** self / everything sampled (0..1). */
  selfShare: number;
  unit: 'ms' | 'bytes';
}

export interface TopOptions {
  by?: 'self' | 'total';
  /** Default 10. */
  limit?: number;
  /** Count V8's (idle) and (program) pseudo-frames. Default false: they are not your code. */
  includeIdle?: boolean;
}

const PSEUDO = new Set(['(idle)', '(program)', '(root)']);

export function frameFromCallFrame(cf: {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}): Frame {
  return {
    name: cf.functionName === '' ? '(anonymous)' : cf.functionName,
    file: cf.url,
    line: cf.lineNumber >= 0 ? cf.lineNumber + 1 : 0,
    column: cf.columnNumber >= 0 ? cf.columnNumber + 1 : 0,
  };
}

/** `name (file:line)`, or the name alone for V8's pseudo-frames. */
export function frameLabel(frame: Frame): string {
  if (frame.file === '') return frame.name;
  return `${frame.name} (${frame.file}:${frame.line})`;
}

export function frameKey(frame: Pick<Frame, 'name' | 'file' | 'line'>): string {
  return `${frame.name}\u0000${frame.file}\u0000${frame.line}`;
}

export abstract class ProfileTree {
  abstract readonly kind: ProfileKind;
  /** Node 0 is the root. */
  readonly nodes: readonly TreeNode[];
  /** Labels attached to every sample of the exports (service, window, …). */
  readonly labels: Readonly<Record<string, string>>;
  /** Wall clock of the start, ms since the epoch. */
  readonly startedAt: number;
  /** Length of the capture in ms. */
  readonly durationMs: number;
  private totals: Float64Array | undefined;

  protected constructor(nodes: TreeNode[], startedAt: number, durationMs: number, labels: Record<string, string>) {
    this.nodes = nodes;
    this.startedAt = startedAt;
    this.durationMs = durationMs;
    this.labels = Object.freeze({ ...labels });
  }

  /** The sum of every node's self value. */
  get totalValue(): number {
    return this.totalOf(0);
  }

  /** Self plus descendants' values of a node. */
  totalOf(index: number): number {
    if (this.totals === undefined) this.totals = computeTotals(this.nodes);
    return this.totals[index];
  }

  /** Frames from the root's child down to `index`. */
  stackOf(index: number): Frame[] {
    const out: Frame[] = [];
    for (let i = index; i > 0; i = this.nodes[i].parent) out.push(this.nodes[i].frame);
    return out.reverse();
  }
}

function computeTotals(nodes: readonly TreeNode[]): Float64Array {
  const totals = new Float64Array(nodes.length);
  // Parents precede children in the array (trees are built top-down), so one backward pass works.
  for (let i = nodes.length - 1; i >= 0; i--) {
    totals[i] += nodes[i].self;
    if (nodes[i].parent >= 0) totals[nodes[i].parent] += totals[i];
  }
  return totals;
}

/**
 * The functions that cost the most, by self or total value. A recursive function's total counts
 * each sample once (the outermost frame), as pprof does.
 */
export function topFunctions(profile: ProfileTree, options: TopOptions = {}): TopFunction[] {
  const by = options.by ?? 'self';
  const limit = options.limit ?? 10;
  const nodes = profile.nodes;
  const acc = new Map<string, { frame: Frame; self: number; total: number }>();
  const active = new Map<string, number>();
  const keys = nodes.map((n) => frameKey(n.frame));
  const entry = (i: number) => {
    let e = acc.get(keys[i]);
    if (e === undefined) acc.set(keys[i], (e = { frame: nodes[i].frame, self: 0, total: 0 }));
    return e;
  };
  // Iterative DFS: enter adds the key to the active set, exit removes it.
  const stack: Array<[number, boolean]> = [[0, false]];
  while (stack.length > 0) {
    const [i, exiting] = stack.pop()!;
    const key = keys[i];
    if (exiting) {
      const n = active.get(key)! - 1;
      if (n === 0) active.delete(key);
      else active.set(key, n);
      continue;
    }
    const e = entry(i);
    e.self += nodes[i].self;
    if (!active.has(key)) e.total += profile.totalOf(i);
    active.set(key, (active.get(key) ?? 0) + 1);
    stack.push([i, true]);
    for (const c of nodes[i].children) stack.push([c, false]);
  }
  const all = profile.totalValue || 1;
  const scale = profile.kind === 'cpu' ? 1 / 1000 : 1;
  return [...acc.values()]
    .filter((e) => (options.includeIdle === true ? e.frame.name !== '(root)' : !PSEUDO.has(e.frame.name)))
    .sort((a, b) => (by === 'self' ? b.self - a.self || b.total - a.total : b.total - a.total || b.self - a.self))
    .slice(0, Math.max(0, limit))
    .map((e) => ({
      name: e.frame.name,
      file: e.frame.file,
      line: e.frame.line,
      selfMs: e.self * scale,
      totalMs: e.total * scale,
      selfShare: e.self / all,
      unit: profile.kind === 'cpu' ? 'ms' : 'bytes',
    }));
}
