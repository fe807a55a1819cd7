// GET /status/profile: the latest CPU profile as a flame graph tree for the page. The source is
// anything with latest() returning a tree in d3-flame-graph's JSON (a @periscope/profiling
// ContinuousProfiler fits: its CpuProfile has toD3()), so health never imports profiling. The
// tree is bounded here (nodes, depth, name length) and computed once per profile.
import { createHash } from 'node:crypto';

/** A node of d3-flame-graph's JSON: `value` is the node's total (itself and its descendants). */
export interface FlameNode {
  name: string;
  value: number;
  children?: FlameNode[];
}

/** One finished profile as the page needs it: @periscope/profiling's `CpuProfile` has these members. */
export interface FlameProfileLike {
  /** 'cpu': values are µs of CPU time; 'heap': bytes. @default 'cpu' */
  kind?: string;
  /** Wall clock of the start, ms since the epoch. */
  startedAt: number;
  /** Length of the capture, ms. */
  durationMs: number;
  toD3(): FlameNode;
}

/** What the page reads: `ContinuousProfiler` from @periscope/profiling (`latest()`) has it. */
export interface ProfileSource {
  latest(): FlameProfileLike | undefined;
}

/** A node of GET /status/profile: `self` is the node's own value, measured before small nodes were dropped. */
export interface PageFlameNode {
  name: string;
  value: number;
  self: number;
  children: PageFlameNode[];
}

export interface ProfileDocument {
  kind: 'cpu' | 'heap';
  /** 'us' (CPU) or 'bytes' (heap): the unit of every value and self. */
  unit: 'us' | 'bytes';
  startedAt: number;
  durationMs: number;
  /** The root's value. */
  total: number;
  /** Nodes in `root` (at most MAX_NODES). */
  nodes: number;
  /** True when nodes were left out for the node or depth bound (nodes under MIN_SHARE always are). */
  truncated: boolean;
  root: PageFlameNode;
}

/** Nodes narrower than this share of the total are left out (under a pixel on a wide screen). */
export const MIN_SHARE = 0.001;
export const MAX_NODES = 3000;
export const MAX_DEPTH = 256;
export const MAX_NAME = 300;

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

function kids(n: FlameNode): FlameNode[] {
  return Array.isArray(n.children) ? n.children.filter((c) => c !== null && typeof c === 'object') : [];
}

type Redact = (value: unknown) => unknown;

function copy(n: FlameNode, redact: Redact): PageFlameNode {
  const value = num(n.value);
  const below = kids(n).reduce((s, c) => s + num(c.value), 0);
  // Names one at a time: the redactor bounds the depth and size of an object it walks.
  const raw = String(redact(typeof n.name === 'string' ? n.name : String(n.name)));
  const name = raw.length > MAX_NAME ? `${raw.slice(0, MAX_NAME - 1)}…` : raw;
  return { name, value, self: Math.max(0, value - below), children: [] };
}

/**
 * Breadth first, so a bound drops the deepest frames first; children sorted by name, as flame
 * graphs are. Names go through `redact` (file paths and function names are user input too).
 */
export function boundTree(
  input: FlameNode,
  redact: Redact = (v) => v,
): { root: PageFlameNode; nodes: number; truncated: boolean } {
  const root = copy(input, redact);
  const min = root.value * MIN_SHARE;
  let nodes = 1;
  let truncated = false;
  let level: Array<[FlameNode, PageFlameNode]> = [[input, root]];
  for (let depth = 1; level.length > 0; depth++) {
    const next: Array<[FlameNode, PageFlameNode]> = [];
    for (const [from, to] of level) {
      for (const child of kids(from)) {
        if (num(child.value) < min || num(child.value) === 0) continue;
        if (nodes >= MAX_NODES || depth > MAX_DEPTH) {
          truncated = true;
          continue;
        }
        const made = copy(child, redact);
        to.children.push(made);
        nodes++;
        next.push([child, made]);
      }
      to.children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
    level = next;
  }
  return { root, nodes, truncated };
}

export interface ProfileAnswer {
  /** JSON text of `{ available, profile }`. */
  body: string;
  etag: string;
}

/** Answers GET /status/profile, remembering the answer for the profile object last seen. */
export function createProfileReader(source: ProfileSource | undefined, redact: Redact): () => ProfileAnswer {
  let lastProfile: FlameProfileLike | undefined;
  let lastAnswer: ProfileAnswer | undefined;
  const answer = (value: unknown): ProfileAnswer => {
    const body = JSON.stringify(value);
    return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
  };
  const none = answer({ available: source !== undefined, profile: null });
  return () => {
    const p = source?.latest();
    if (p === undefined || p === null) return none;
    if (p === lastProfile && lastAnswer !== undefined) return lastAnswer;
    const { root, nodes, truncated } = boundTree(p.toD3(), redact);
    const kind = p.kind === 'heap' ? 'heap' : 'cpu';
    const doc: ProfileDocument = {
      kind,
      unit: kind === 'cpu' ? 'us' : 'bytes',
      startedAt: num(p.startedAt),
      durationMs: num(p.durationMs),
      total: root.value,
      nodes,
      truncated,
      root,
    };
    lastProfile = p;
    lastAnswer = answer({ available: true, profile: doc });
    return lastAnswer;
  };
}

export function isProfileSource(value: unknown): value is ProfileSource {
  const v = value as Partial<ProfileSource> | null;
  return typeof v === 'object' && v !== null && typeof v.latest === 'function';
}
