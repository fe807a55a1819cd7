// Text and JSON exports: flamegraph.pl folded stacks, d3-flame-graph JSON, speedscope's file format.
import { frameLabel, type Frame, type ProfileTree } from './tree';

/** d3-flame-graph's node: `value` is the total (self + children), as its default `selfValue(false)` reads it. */
export interface D3Node {
  name: string;
  value: number;
  file?: string;
  line?: number;
  children: D3Node[];
}

export interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
  col?: number;
}

export interface SpeedscopeSampledProfile {
  type: 'sampled';
  name: string;
  unit: 'microseconds' | 'bytes';
  startValue: number;
  endValue: number;
  samples: number[][];
  weights: number[];
}

export interface SpeedscopeFile {
  $schema: 'https://www.speedscope.app/file-format-schema.json';
  shared: { frames: SpeedscopeFrame[] };
  profiles: SpeedscopeSampledProfile[];
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

interface SampleSequence {
  sampleNodes?: Int32Array;
  sampleWeightsUs?: Float64Array;
}

/** A folded frame: no `;` (the separator) and no line breaks; never empty. */
export function foldedFrame(frame: Frame): string {
  const text = frameLabel(frame).replace(/[;\r\n]/g, (c) => (c === ';' ? ':' : ' '));
  return text === '' ? '(anonymous)' : text;
}

/** `a;b;c 123` per distinct stack (root first); values are integers (µs for CPU, bytes for heap). */
export function toFolded(tree: ProfileTree): string {
  const byPath = new Map<string, number>();
  const paths: string[] = new Array(tree.nodes.length);
  tree.nodes.forEach((node, i) => {
    if (i === 0) return;
    const f = foldedFrame(node.frame);
    paths[i] = node.parent > 0 ? `${paths[node.parent]};${f}` : f;
    if (node.self > 0) byPath.set(paths[i], (byPath.get(paths[i]) ?? 0) + node.self);
  });
  let out = '';
  for (const [path, value] of byPath) {
    const v = Math.round(value);
    if (v > 0) out += `${path} ${v}\n`;
  }
  return out;
}

export function toD3(tree: ProfileTree): D3Node {
  const made: D3Node[] = tree.nodes.map((node, i) => ({
    name: i === 0 ? 'root' : frameLabel(node.frame),
    value: Math.round(tree.totalOf(i)),
    ...(node.frame.file === '' ? {} : { file: node.frame.file, line: node.frame.line }),
    children: [],
  }));
  tree.nodes.forEach((node, i) => {
    if (node.parent >= 0) made[node.parent].children.push(made[i]);
  });
  return made[0];
}

export function toSpeedscope(tree: ProfileTree & SampleSequence, name = 'profile'): SpeedscopeFile {
  const frames: SpeedscopeFrame[] = [];
  const frameIndex = new Map<string, number>();
  const stackOf = new Map<number, number[]>();
  const stack = (i: number): number[] => {
    let s = stackOf.get(i);
    if (s !== undefined) return s;
    const node = tree.nodes[i];
    const label = frameLabel(node.frame);
    let f = frameIndex.get(label);
    if (f === undefined) {
      f = frames.length;
      frameIndex.set(label, f);
      const fr = node.frame;
      frames.push(fr.file === '' ? { name: fr.name } : { name: fr.name, file: fr.file, line: fr.line, col: fr.column });
    }
    s = node.parent > 0 ? [...stack(node.parent), f] : [f];
    stackOf.set(i, s);
    return s;
  };
  const samples: number[][] = [];
  const weights: number[] = [];
  if (tree.kind === 'cpu' && tree.sampleNodes !== undefined && tree.sampleWeightsUs !== undefined) {
    for (let k = 0; k < tree.sampleNodes.length; k++) {
      if (tree.sampleNodes[k] === 0) continue;
      samples.push(stack(tree.sampleNodes[k]));
      weights.push(tree.sampleWeightsUs[k]);
    }
  } else {
    tree.nodes.forEach((node, i) => {
      if (i > 0 && node.self > 0) {
        samples.push(stack(i));
        weights.push(node.self);
      }
    });
  }
  const total = weights.reduce((a, b) => a + b, 0);
  return {
    $schema: 'https://www.speedscope.app/file-format-schema.json',
    shared: { frames },
    profiles: [
      {
        type: 'sampled',
        name,
        unit: tree.kind === 'cpu' ? 'microseconds' : 'bytes',
        startValue: 0,
        endValue: total,
        samples,
        weights,
      },
    ],
    name,
    activeProfileIndex: 0,
    exporter: '@periscope/profiling',
  };
}
