// Test helpers: a real `go tool pprof` run (golang-go), and synthetic .cpuprofile builders.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RawCpuProfile } from '../src';

const GO_MISSING = "go tool pprof is needed for this test: install Debian's golang-go (apt-get install golang-go)";

/** `go tool pprof -top <file>` on the given bytes; fails with one message naming golang-go when go is missing. */
export async function goPprofTop(bytes: Buffer, extra: string[] = []): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'periscope-pprof-'));
  const file = path.join(dir, 'profile.pb.gz');
  writeFileSync(file, bytes, { mode: 0o600 });
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(
        'go',
        ['tool', 'pprof', '-top', ...extra, file],
        { timeout: 60_000, env: { ...process.env, HOME: process.env.HOME ?? dir, GOCACHE: path.join(dir, 'cache') } },
        (err, stdout, stderr) => {
          if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error(GO_MISSING));
          else if (err) reject(new Error(`go tool pprof failed: ${err.message}\n${stderr}`));
          else resolve(stdout);
        },
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let nextId = 1;
export interface SynthFrame {
  name: string;
  url?: string;
  line?: number;
}

/**
 * A .cpuprofile from explicit samples: each sample is a stack (root first) and the time since the
 * previous sample (µs). Shared prefixes share nodes, as V8's do.
 */
export function synthProfile(samples: Array<{ stack: SynthFrame[]; deltaUs: number }>, tailUs = 0): RawCpuProfile {
  nextId = 1;
  const root = { id: nextId++, callFrame: cf({ name: '(root)' }), children: [] as number[] };
  const nodes = [root];
  const childOf = new Map<string, number>();
  const ids: number[] = [];
  const deltas: number[] = [];
  let time = 1_000_000;
  for (const s of samples) {
    let parent = root;
    for (const f of s.stack) {
      const key = `${parent.id}/${f.name}/${f.url ?? ''}/${f.line ?? 0}`;
      let id = childOf.get(key);
      if (id === undefined) {
        id = nextId++;
        childOf.set(key, id);
        const node = { id, callFrame: cf(f), children: [] as number[] };
        nodes.push(node);
        parent.children.push(id);
      }
      parent = nodes.find((n) => n.id === id)!;
    }
    ids.push(parent.id);
    deltas.push(s.deltaUs);
    time += s.deltaUs;
  }
  return { nodes, startTime: 1_000_000, endTime: time + tailUs, samples: ids, timeDeltas: deltas };
}

function cf(f: SynthFrame) {
  return { functionName: f.name, scriptId: '1', url: f.url ?? '', lineNumber: (f.line ?? 1) - 1, columnNumber: 0 };
}
