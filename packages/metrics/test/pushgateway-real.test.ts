// Pushgateway support against a real Pushgateway (Debian package prometheus-pushgateway) started
// on a free loopback port: what we push is what the gateway exposes on its own /metrics.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@periscope-tools/testing';
import { createMetrics, PushgatewayError } from '../src';

const BINARY = '/usr/bin/prometheus-pushgateway';

let url: string;
let child: ChildProcess;
let dir: string;
let exited: Promise<void>;

beforeAll(async () => {
  if (!fs.existsSync(BINARY))
    throw new Error(`${BINARY} is missing: apt-get install prometheus-pushgateway (CI installs it in .ci/run)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-pushgateway-'));
  fs.chmodSync(dir, 0o700);
  const port = await freePort();
  child = spawn(
    BINARY,
    [
      `--web.listen-address=127.0.0.1:${port}`,
      `--persistence.file=${path.join(dir, 'pushgateway.data')}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  exited = new Promise<void>((r) => child.once('exit', () => r()));
  url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error('pushgateway did not become ready within 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}, 30_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await exited;
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function gatewayMetrics(): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

function line(text: string, name: string, labels: string[]): string | undefined {
  return text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
}

describe('Pushgateway (real prometheus-pushgateway)', () => {
  it('PUT replaces the group; the gateway exposes the pushed series under the job and grouping labels', async () => {
    const m = createMetrics();
    const done = m.counter({ name: 'batch_items_total', help: 'items', labelNames: ['kind'] as const });
    const took = m.histogram({ name: 'batch_seconds', help: 'duration', buckets: [1, 5] });
    done.inc({ kind: 'embed' }, 42);
    took.observe(3);
    await m.push({ url, job: 'nightly', groupings: { instance: 'batch/7' } });
    const text = await gatewayMetrics();
    expect(line(text, 'batch_items_total', ['job="nightly"', 'instance="batch/7"', 'kind="embed"'])).toMatch(/ 42$/);
    expect(line(text, 'batch_seconds_bucket', ['job="nightly"', 'le="5"'])).toMatch(/ 1$/);
    expect(line(text, 'batch_seconds_count', ['job="nightly"'])).toMatch(/ 1$/);
    expect(line(text, 'push_time_seconds', ['job="nightly"', 'instance="batch/7"'])).toBeDefined();

    done.inc({ kind: 'embed' }, 8);
    await m.push({ url, job: 'nightly', groupings: { instance: 'batch/7' } });
    expect(line(await gatewayMetrics(), 'batch_items_total', ['job="nightly"', 'kind="embed"'])).toMatch(/ 50$/);
    await m.close();
  });

  it('POST merges into the group and DELETE removes it', async () => {
    const a = createMetrics();
    a.gauge({ name: 'merge_a', help: 'a' }).set(1);
    const b = createMetrics();
    b.gauge({ name: 'merge_b', help: 'b' }).set(2);
    await a.push({ url, job: 'merge' });
    await b.push({ url, job: 'merge', method: 'POST' });
    let text = await gatewayMetrics();
    expect(line(text, 'merge_a', ['job="merge"'])).toMatch(/ 1$/);
    expect(line(text, 'merge_b', ['job="merge"'])).toMatch(/ 2$/);
    await a.push({ url, job: 'merge', method: 'DELETE' });
    text = await gatewayMetrics();
    expect(line(text, 'merge_a', ['job="merge"'])).toBeUndefined();
    expect(line(text, 'merge_b', ['job="merge"'])).toBeUndefined();
    await a.close();
    await b.close();
  });

  it('reports the gateway refusing a metric whose type conflicts with another group', async () => {
    const first = createMetrics();
    first.counter({ name: 'conflict_total', help: 'a counter' }).inc();
    await first.push({ url, job: 'conflict' });
    const second = createMetrics();
    second.gauge({ name: 'conflict_total', help: 'now a gauge' }).set(1);
    const err = await second.push({ url, job: 'conflict-other' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushgatewayError);
    expect((err as PushgatewayError).message).toMatch(/answered 400/);
    await first.close();
    await second.close();
  });
});
