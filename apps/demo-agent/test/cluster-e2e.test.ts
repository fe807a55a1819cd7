// End to end, scale-out on one machine: the built `npm run demo:cluster` (dist/cluster.js) runs two
// demo-agent processes and the health-server sharing the test Redis and PostgreSQL. Over HTTP only:
// a delegated task is one trace in both processes' stores, an LLM reply cached by a is served to b
// from L2, a delete on a drops b's L1 copy, identical concurrent tasks on a and b cost one model
// call per round trip, the health-server aggregates both, and a real Prometheus scrapes all three.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  outcomeWithin,
  startChildApp,
  startPrometheus,
  type ChildApp,
  type PrometheusServer,
} from '@periscope-tools/testing';

const CLUSTER = path.join(__dirname, '..', 'dist', 'cluster.js');
const TOKEN = 'cluster-e2e-debug-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
// Unique per run: prompts and keys never meet an earlier run's cached replies.
const RUN = randomUUID();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-cluster-e2e-'));

let cluster: ChildApp;
let a: string;
let b: string;
let hs: string;

interface CacheStats {
  l1: { hits: number; misses: number };
  l2: { hits: number; misses: number };
  factory: { calls: number; distributedWaits: number };
  bus: { received: number };
}
interface Task {
  id: string;
  status: string;
  answer: string;
  iterations: number;
  cachedCalls: number;
}

const json = async <T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
  const res = await fetch(url, { ...init, headers: { ...AUTH, ...init?.headers } });
  return { status: res.status, body: (await res.json()) as T };
};
const llmStats = async (base: string) => (await json<{ cache: { llm: CacheStats } }>(`${base}/status`)).body.cache.llm;
async function runTask(base: string, prompt: string, headers: Record<string, string> = {}): Promise<Task> {
  const posted = await json<{ id: string }>(`${base}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ prompt }),
  });
  expect(posted.status).toBe(200);
  return (await json<Task>(`${base}/tasks/${posted.body.id}`)).body;
}
/** Polls `probe` until it returns a value (bounded). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  cluster = await startChildApp({
    script: CLUSTER,
    env: {
      PERISCOPE_DEBUG_TOKEN: TOKEN,
      PERISCOPE_DEMO_ERROR_RATE: '0',
      PERISCOPE_DEMO_SEED: String(Math.floor(Math.random() * 2 ** 30)),
      PERISCOPE_HEALTH_DRAIN_DELAY_MS: '200',
      // A loaded CI machine: a slow Redis reply must not read as a miss.
      PERISCOPE_CACHE_L2_TIMEOUT_MS: '2000',
      PERISCOPE_GPU_NVIDIA_SMI: path.join(scratch, 'no-nvidia-smi'),
      PERISCOPE_GPU_SYSTEMINFORMATION: 'false',
    },
    startTimeoutMs: 180_000,
  });
  const out = await cluster.waitForOutput(/Cluster ready[^\n]*/, 240_000).then(() => cluster.output());
  const url = (name: RegExp) => name.exec(out)![1];
  a = url(/agent a\s+(http:\/\/\S+)/);
  b = url(/agent b\s+(http:\/\/\S+)/);
  hs = url(/health-server\s+(http:\/\/\S+)/);
}, 300_000);

afterAll(async () => {
  if (cluster && cluster.child.exitCode === null) {
    cluster.child.kill('SIGTERM');
    await outcomeWithin(cluster.exited, 30_000, 'timeout');
    await cluster.stop();
  }
  fs.rmSync(scratch, { recursive: true, force: true });
}, 60_000);

test('each agent starts through the register entry, with its own service name', () => {
  for (const name of ['a', 'b'])
    expect(cluster.output()).toMatch(
      new RegExp(`tracing started by @periscope/tracing/register[^\\n]*periscope-demo-agent-${name}\\b`),
    );
});

test('a task sent to a that delegates to b is one trace, stored by both processes', async () => {
  const traceId = randomBytes(16).toString('hex');
  const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
  const task = await runTask(a, `Compute 6 * 7, then delegate: compute 2 * 3 for trace ${RUN}`, { traceparent });
  expect(task.status).toBe('ok');
  type Stored = { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: string }[] };
  const stored = (base: string) =>
    eventually(`trace ${traceId} at ${base}`, async () => {
      const r = await json<Stored>(`${base}/status/traces/${traceId}`);
      return r.status === 200 ? r.body : undefined;
    });
  const [onA, onB] = await Promise.all([stored(a), stored(b)]);
  for (const span of [...onA.spans, ...onB.spans]) expect(span.traceId).toBe(traceId);
  const client = onA.spans.find((s) => s.kind === 'CLIENT' && s.name === 'POST /tasks');
  expect(onA.spans.map((s) => s.name)).toContain('execute_tool delegate');
  expect(client).toBeDefined();
  // b's agent span continues a's HTTP call: its parent is a's CLIENT span.
  const agentOnB = onB.spans.find((s) => s.name.startsWith('invoke_agent'));
  expect(agentOnB?.parentSpanId).toBe(client!.spanId);
}, 120_000);

test('an LLM reply cached by a is served to b from L2', async () => {
  const prompt = `Compute 3 * 14 for reuse ${RUN}`;
  const first = await runTask(a, prompt);
  expect(first.cachedCalls).toBe(0);
  const before = await llmStats(b);
  const second = await runTask(b, prompt);
  const after = await llmStats(b);
  expect(second.answer).toBe(first.answer);
  expect(second.cachedCalls).toBe(second.iterations);
  expect(after.factory.calls - before.factory.calls).toBe(0);
  expect(after.l2.hits - before.l2.hits).toBeGreaterThanOrEqual(second.iterations);
}, 120_000);

test("a delete on a drops b's L1 copy (through the invalidation bus)", async () => {
  const key = `/debug/cache/llm/cluster-e2e-${RUN}`;
  const put = await json(`${a}${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: 'v1' }),
  });
  expect(put.status).toBe(200);
  expect((await json(`${b}${key}`)).status).toBe(200); // from L2, now in b's L1
  const warm = await llmStats(b);
  expect((await json(`${b}${key}`)).status).toBe(200);
  const hot = await llmStats(b);
  expect(hot.l1.hits - warm.l1.hits).toBe(1); // served by b's L1
  expect((await json(`${a}${key}`, { method: 'DELETE' })).status).toBe(200);
  await eventually("b's copy dropped", async () => ((await json(`${b}${key}`)).status === 404 ? true : undefined));
  expect((await llmStats(b)).bus.received).toBeGreaterThan(hot.bus.received);
}, 60_000);

test('identical concurrent tasks on a and b call the model once per round trip (distributed single flight)', async () => {
  const prompt = `Compute 5 * 9 for flight ${RUN}`;
  const [sa, sb] = await Promise.all([llmStats(a), llmStats(b)]);
  const [ta, tb] = await Promise.all([runTask(a, prompt), runTask(b, prompt)]);
  const [ea, eb] = await Promise.all([llmStats(a), llmStats(b)]);
  expect(ta.answer).toBe(tb.answer);
  expect(ta.iterations).toBe(tb.iterations);
  const realCalls = ta.iterations - ta.cachedCalls + (tb.iterations - tb.cachedCalls);
  expect(realCalls).toBe(ta.iterations);
  expect(ea.factory.calls - sa.factory.calls + (eb.factory.calls - sb.factory.calls)).toBe(ta.iterations);
}, 120_000);

test('the health-server aggregates both agents', async () => {
  type Doc = { status: string; checks: Record<string, { status: string }[]> };
  const doc = await eventually('both agents pass', async () => {
    const r = await json<Doc>(`${hs}/health`);
    const agents = ['agent-1:responseTime', 'agent-2:responseTime'].map((k) => r.body.checks[k]?.[0]?.status);
    return agents.every((s) => s === 'pass') ? r.body : undefined;
  });
  expect(doc.checks['agent-1:responseTime']).toBeDefined();
}, 60_000);

test('a real Prometheus scrapes all three (up == 1)', async () => {
  const targets = [a, b, hs].map((u) => new URL(u).host);
  let prom: PrometheusServer | undefined;
  try {
    prom = await startPrometheus(targets);
    const up = await eventually(
      'up == 1 for all three',
      async () => {
        const r = await prom!.query('up');
        return r.length === 3 && r.every((s) => s.value[1] === '1') ? r : undefined;
      },
      60_000,
    );
    expect(up.map((s) => s.metric.instance).sort()).toEqual([...targets].sort());
  } finally {
    await prom?.stop();
  }
}, 120_000);

test('SIGTERM stops all three and the cluster exits 0', async () => {
  cluster.child.kill('SIGTERM');
  const exit = await outcomeWithin(cluster.exited, 45_000, 'timeout');
  expect(exit).toEqual({ code: 0, signal: null });
  for (const base of [a, b, hs]) await expect(fetch(`${base}/livez`)).rejects.toThrow();
}, 60_000);
