// pprof export (gzipped protobuf, encoded by the pure-JS pprof-format): one sample per call-tree
// node with a self value, its stack leaf first, the profile's labels on every sample. CPU:
// samples/count + cpu/nanoseconds with period = the measured sampling interval; heap:
// inuse_objects/count + inuse_space/bytes.
import { gzipSync } from 'node:zlib';
import { Function as PFunction, Label, Location, Line, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { frameKey, type ProfileTree } from './tree';

interface PeriodInfo {
  intervalUs?: number;
  heapIntervalBytes?: number;
}

export function encodePprof(tree: ProfileTree & PeriodInfo): Uint8Array {
  const strings = new StringTable();
  const cpu = tree.kind === 'cpu';
  const functions: PFunction[] = [];
  const locations: Location[] = [];
  const locationOf = new Map<string, number>();
  const locationOfNode = new Int32Array(tree.nodes.length);
  tree.nodes.forEach((node, i) => {
    if (i === 0) return;
    const key = frameKey(node.frame);
    let id = locationOf.get(key);
    if (id === undefined) {
      id = functions.length + 1;
      const f = node.frame;
      const name = strings.dedup(f.name);
      functions.push(new PFunction({ id, name, systemName: name, filename: strings.dedup(f.file), startLine: f.line }));
      locations.push(new Location({ id, line: [new Line({ functionId: id, line: f.line })] }));
      locationOf.set(key, id);
    }
    locationOfNode[i] = id;
  });
  const labels = Object.entries(tree.labels).map(
    ([k, v]) => new Label({ key: strings.dedup(k), str: strings.dedup(v) }),
  );
  const samples: Sample[] = [];
  tree.nodes.forEach((node, i) => {
    if (i === 0 || (node.self <= 0 && node.selfCount <= 0)) return;
    const stack: number[] = [];
    for (let j = i; j > 0; j = tree.nodes[j].parent) stack.push(locationOfNode[j]);
    const value = cpu ? Math.round(node.self * 1000) : Math.round(node.self);
    samples.push(new Sample({ locationId: stack, value: [node.selfCount, value], label: labels }));
  });
  const type = (t: string, u: string) => new ValueType({ type: strings.dedup(t), unit: strings.dedup(u) });
  const sampleType = cpu
    ? [type('samples', 'count'), type('cpu', 'nanoseconds')]
    : [type('inuse_objects', 'count'), type('inuse_space', 'bytes')];
  const profile = new Profile({
    sampleType,
    sample: samples,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: BigInt(Math.round(tree.startedAt)) * 1_000_000n,
    durationNanos: BigInt(Math.round(tree.durationMs * 1e6)),
    periodType: cpu ? type('cpu', 'nanoseconds') : type('space', 'bytes'),
    period: cpu ? Math.round((tree.intervalUs ?? 0) * 1000) : Math.round(tree.heapIntervalBytes ?? 0),
  });
  return profile.encode();
}

export function toPprof(tree: ProfileTree & PeriodInfo): Buffer {
  return gzipSync(encodePprof(tree));
}
