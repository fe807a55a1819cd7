// End to end: the built demo (dist/main.js) as a child process, talked to over HTTP.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  freePort,
  startChildApp,
  promtoolCheckMetrics,
  promtoolPath,
  startPrometheus,
  type ChildApp,
} from '@periscope-tools/testing';

// promtool's lint findings must be none, except names kept on purpose for compatibility: prom-client's
// default nodejs_active_{handles,requests,resources}_total gauges, and dcgm-exporter's `UUID` and
// `modelName` labels on the DCGM_FI_DEV_* gauges (so existing DCGM dashboards work; gpu-pool README).
const COMPAT_LINT = [
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/,
  /^DCGM_FI_DEV_[A-Z_]+ label names should be written in 'snake_case' not 'camelCase'$/,
];
const lintFindings = (exposition: string): string[] =>
  promtoolCheckMetrics(exposition)
    .split('\n')
    .filter((line) => line !== '' && !COMPAT_LINT.some((re) => re.test(line)));

const MAIN = path.join(__dirname, '..', 'dist', 'main.js');
const RULES = path.join(__dirname, '..', '..', '..', 'deploy', 'prometheus', 'rules', 'periscope.rules.yml');
const DASHBOARD = path.join(__dirname, '..', '..', '..', 'deploy', 'grafana', 'periscope-agent.json');
const DEBUG_TOKEN = 'e2e-debug-token-0123456789';
// A private cache directory and fresh seeds: earlier runs' cached replies must not leak in.
const CACHE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-demo-e2e-'));
const OUT_DIR = path.join(CACHE_DIR, 'out');
const FAST = {
  PERISCOPE_DEMO_LATENCY_SCALE: '0.02',
  PERISCOPE_HEALTH_DRAIN_DELAY_MS: '300',
  PERISCOPE_DEMO_CACHE_DIR: CACHE_DIR,
  // The batch's profile.pb.gz and flame.html (tested in e2e-observability.test.ts) stay private to the run.
  PERISCOPE_DEMO_OUT_DIR: OUT_DIR,
  PERISCOPE_GPU_NVIDIA_SMI: path.join(CACHE_DIR, 'no-nvidia-smi'),
  PERISCOPE_GPU_SYSTEMINFORMATION: 'false',
};
const freshSeed = () => String(Math.floor(Math.random() * 2 ** 30));
afterAll(() => fs.rmSync(CACHE_DIR, { recursive: true, force: true }));

describe('demo agent serving', () => {
  let app: ChildApp;
  beforeAll(async () => {
    app = await startChildApp({
      script: MAIN,
      args: ['--tasks', '6', '--port', '0', '--error-rate', '0', '--seed', freshSeed()],
      env: { ...FAST, PERISCOPE_DEBUG_TOKEN: DEBUG_TOKEN },
    });
    await app.waitForOutput(/Serving until Ctrl-C/);
  });
  afterAll(() => app.stop());

  test('runs the batch and prints the summary with latency, tokens, cost and endpoints', () => {
    const out = app.output();
    expect(out).toMatch(/tasks\s+6 in [\d.]+ s \(6 succeeded, 0 failed\)/);
    expect(out).toMatch(/task latency\s+p50 [\d.]+ s, p95 [\d.]+ s/);
    expect(out).toMatch(/tokens\s+\d+ in, \d+ out/);
    expect(out).toMatch(/simulated cost\s+\$\d+\.\d{4}/);
    expect(out).toContain(`${app.url}/metrics`);
    expect(out).toMatch(/progress: 6\/6 tasks \(100%\)/); // not a TTY: plain lines
  });

  test('probes answer with the right codes and content types', async () => {
    const live = await fetch(`${app.url}/livez`);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toMatch(/^text\/plain/);
    const ready = await fetch(`${app.url}/readyz?verbose`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toMatch(/llm-provider/);
    const health = await fetch(`${app.url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toMatch(/^application\/health\+json/);
    const doc = (await health.json()) as any;
    expect(doc).toMatchObject({ status: 'pass', serviceId: 'periscope-demo-agent' });
    expect(Object.keys(doc.checks)).toEqual(
      expect.arrayContaining(['llm-provider:errorRatio', 'postgres:responseTime', 'cache-l2:responseTime']),
    );
    expect(doc.checks['postgres:responseTime'][0]).toMatchObject({ status: 'pass', componentType: 'datastore' });
  });

  test('/metrics is valid Prometheus text and OpenMetrics, with the GenAI and agent series', async () => {
    const prom = await fetch(`${app.url}/metrics`);
    expect(prom.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await prom.text();
    expect(lintFindings(text)).toEqual([]);
    for (const series of [
      'gen_ai_client_token_usage_bucket',
      'gen_ai_client_operation_duration_seconds_bucket',
      'periscope_agent_tasks_total{status="ok"} 6',
      'periscope_agent_tool_calls_total',
      'process_cpu_user_seconds_total',
    ]) {
      expect(text).toContain(series);
    }
    const om = await fetch(`${app.url}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(om.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    const omText = await om.text();
    expect(omText.trimEnd().endsWith('# EOF')).toBe(true);
    // promtool reads only the Prometheus text format; OpenMetrics is checked by a real scrape below.
  });

  test('a real Prometheus scrapes it over OpenMetrics, stores trace-id exemplars, and every rule and dashboard query in deploy/ finds its series', async () => {
    const prom = await startPrometheus(new URL(app.url).host, { ruleFiles: [RULES] });
    try {
      let target: { health: string; lastError: string } | undefined;
      for (let i = 0; i < 100 && target?.health !== 'up'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        [target] = await prom.targets();
        if (target?.health === 'down') throw new Error(`Prometheus could not scrape the demo: ${target.lastError}`);
      }
      expect(target).toMatchObject({ health: 'up', lastError: '' });
      const [tasks] = await prom.query('periscope_agent_tasks_total{status="ok"}');
      expect(Number(tasks.value[1])).toBeGreaterThanOrEqual(6);
      const [tokens] = await prom.query('sum(gen_ai_client_token_usage_count{gen_ai_token_type="input"})');
      expect(Number(tokens.value[1])).toBeGreaterThan(0);
      const exemplars = await prom.exemplars('gen_ai_client_operation_duration_seconds_bucket');
      const traceIds = exemplars.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
      expect(traceIds.length).toBeGreaterThan(0);
      for (const id of traceIds) expect(id).toMatch(/^[0-9a-f]{32}$/);

      // The shipped alerting rules load and evaluate without errors; recording rules yield series.
      await new Promise((r) => setTimeout(r, 2500));
      const rules = (await prom.rules()).flatMap((g) => g.rules);
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules)
        expect({ rule: rule.name, health: rule.health, error: rule.lastError ?? '' }).toEqual({
          rule: rule.name,
          health: 'ok',
          error: '',
        });
      expect(await prom.query('periscope:agent_task_error_ratio:rate5m')).toHaveLength(1);
      // Every dashboard panel query returns data: metric and label names match what we export.
      const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          const result = await prom.query(target.expr);
          expect({ panel: panel.title, series: result.length > 0 }).toEqual({ panel: panel.title, series: true });
        }
      }
    } finally {
      await prom.stop();
    }
  });

  test('/status shows the agent: tasks, tokens, cost per model', async () => {
    const res = await fetch(`${app.url}/status`);
    expect(res.status).toBe(200);
    const status = (await res.json()) as any;
    expect(status.agent.tasks).toMatchObject({ done: 6, errors: 0, inFlight: 0 });
    expect(status.agent.tokens.input).toBeGreaterThan(0);
    expect(status.agent.models['sim-gpt-4o-mini'].costUsd).toBeGreaterThan(0);
    expect(status.state).toBe('ready');
    // The SLOs the generated burn-rate alerts watch, with the error budget left (issue 15).
    expect(status.slo.map((s: { name: string }) => s.name)).toEqual(['agent_task_success', 'llm_latency']);
    for (const slo of status.slo) expect(slo.budgetRemaining).toBeLessThanOrEqual(1);
    expect(status.logs).toBeDefined();
    expect(status.database).toMatchObject({ kind: 'postgresql', state: 'open' });
    expect(status.cache.llm.l2).toMatchObject({ connected: true });
    expect(status.cache.llm.factory.calls).toBeGreaterThan(0);
  });

  test('POST /tasks runs a task and GET /tasks/:id returns it', async () => {
    const res = await fetch(`${app.url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'What is 6 * 7?' }),
    });
    expect(res.status).toBe(200);
    const task = (await res.json()) as any;
    expect(task).toEqual({
      id: expect.any(String),
      answer: expect.stringContaining('42'),
      usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
      durationMs: expect.any(Number),
    });
    const again = await fetch(`${app.url}/tasks/${task.id}`);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({
      id: task.id,
      prompt: 'What is 6 * 7?',
      status: 'ok',
      toolCalls: [{ name: 'calculator', status: 'ok' }],
    });
    expect((await fetch(`${app.url}/tasks/nope`)).status).toBe(404);
  });

  test.each([
    ['malformed JSON', '{"prompt": ', 400, /not valid JSON/],
    ['a missing prompt', '{}', 400, /missing field "prompt"/],
    ['a non-string prompt', '{"prompt": 42}', 400, /must be a string, got number/],
    ['an array body', '[1]', 400, /JSON object/],
    ['a body over 64 KiB', JSON.stringify({ prompt: 'x'.repeat(70 * 1024) }), 413, /./],
    ['a NUL byte in the prompt', JSON.stringify({ prompt: 'What is 1+1?\u0000' }), 400, /must not contain NUL/],
  ])('POST /tasks with %s gets a 4xx JSON error naming the problem', async (_what, body, status, message) => {
    const res = await fetch(`${app.url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/json/);
    expect(((await res.json()) as any).error).toMatch(message);
  });

  test("POST /tasks continues the caller's traceparent; /debug/traces shows it behind the bearer token", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const res = await fetch(`${app.url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parentId}-01` },
      // A prompt no earlier run has sent: a reply cached in Redis or on disk by a previous run would
      // skip the LLM call and its chat span.
      body: JSON.stringify({ prompt: `Search the docs about redis caching (run ${randomUUID().slice(0, 8)}).` }),
    });
    expect(res.status).toBe(200);
    expect((await fetch(`${app.url}/debug/traces/${traceId}`)).status).toBe(401);
    expect(
      (await fetch(`${app.url}/debug/traces/${traceId}`, { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
    const auth = { authorization: `Bearer ${DEBUG_TOKEN}` };
    const trace = (await (await fetch(`${app.url}/debug/traces/${traceId}`, { headers: auth })).json()) as any;
    const root = trace.spans.find((s: any) => s.name === 'invoke_agent periscope-demo-agent');
    expect(root.parentSpanId).toBe(parentId);
    const names = trace.spans.map((s: any) => s.name);
    expect(names).toEqual(expect.arrayContaining(['chat sim-gpt-4o-mini', 'execute_tool knowledge_base']));
    const tree = await (await fetch(`${app.url}/debug/traces/${traceId}?format=tree`, { headers: auth })).text();
    expect(tree).toMatch(/invoke_agent periscope-demo-agent[\s\S]*execute_tool knowledge_base/);
    const list = (await (await fetch(`${app.url}/debug/traces?limit=50`, { headers: auth })).json()) as any;
    expect(list.traces.length).toBeGreaterThanOrEqual(7);
    // Malformed parameters are the client's mistake: 400 naming the parameter, no ERROR in the log.
    for (const [path, name] of [
      ['/debug/traces/not-a-trace-id', '"id"'],
      ['/debug/traces/00000000000000000000000000000000', '"id"'],
      ['/debug/traces?minDurationMs=-1', '"minDurationMs"'],
      ['/debug/traces?limit=lots', '"limit"'],
    ]) {
      const bad = await fetch(`${app.url}${path}`, { headers: auth });
      expect({ path, status: bad.status }).toEqual({ path, status: 400 });
      const body = (await bad.json()) as any;
      expect(body).toMatchObject({ code: 'ERR_DEMO_INVALID_PARAMETER' });
      expect(body.error).toContain(name);
    }
    expect(app.output()).not.toMatch(/"severity_text":"ERROR"/);
    // A malformed traceparent starts a new trace instead of failing the request.
    const bad = await fetch(`${app.url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: '00-zz-1-01' },
      body: JSON.stringify({ prompt: 'What is 1+1?' }),
    });
    expect(bad.status).toBe(200);
  });

  test('wrong methods get 405 with Allow; unknown paths 404', async () => {
    const put = await fetch(`${app.url}/livez`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD');
    const getTasks = await fetch(`${app.url}/tasks`);
    expect(getTasks.status).toBe(405);
    expect(getTasks.headers.get('allow')).toContain('POST');
    expect((await fetch(`${app.url}/nope`)).status).toBe(404);
  });
});

test("--exit runs the batch and exits 0 by itself; failures are logged as JSON with the task's trace id", async () => {
  const app = await startChildApp({
    script: MAIN,
    args: ['--tasks', '12', '--port', '0', '--exit', '--error-rate', '0.8', '--seed', freshSeed()],
    env: FAST,
  });
  const { code } = await app.exited;
  expect(code).toBe(0);
  expect(app.output()).toMatch(/tasks\s+12 in/);
  // Transient provider errors were retried, and the summary says how many.
  expect(app.output()).toMatch(
    /LLM retries\s+[1-9]\d* retried attempts, \d+ calls recovered by a retry, circuit breaker \w+/,
  );
  const records = app
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const failures = records.filter((r) => r.body === 'agent task failed');
  expect(failures.length).toBeGreaterThan(0);
  for (const f of failures) {
    expect(f).toMatchObject({ severity_text: 'WARN', 'service.name': 'periscope-demo-agent' });
    expect(f.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(f.span_id).toMatch(/^[0-9a-f]{16}$/);
  }
  expect(app.output()).toMatch(
    /Slowest trace \([0-9a-f]{32}\)\ntrace [0-9a-f]{32}.*\n└─ invoke_agent periscope-demo-agent/,
  );
});

// PGlite (WASM) takes seconds to start on a loaded machine, and this test starts it twice.
test('without DATABASE_URL it runs on an embedded PostgreSQL and says so; a repeated batch is answered from the cache', async () => {
  const seed = freshSeed();
  const run = async () => {
    const app = await startChildApp({
      script: MAIN,
      args: ['--tasks', '8', '--port', '0', '--exit', '--error-rate', '0', '--seed', seed],
      env: { ...FAST, DATABASE_URL: '' },
      startTimeoutMs: 90_000,
    });
    expect((await app.exited).code).toBe(0);
    return app.output();
  };
  const first = await run();
  expect(first).toContain('started an embedded PostgreSQL (PGlite');
  expect(first).toMatch(/tasks\s+8 in [\d.]+ s \(8 succeeded, 0 failed\)/);
  expect(first).toMatch(/database pool\s+127\.0\.0\.1:\d+\/postgres/);
  const second = await run();
  const fromCache = Number(/(\d+) model calls answered from cache/.exec(second)?.[1]);
  expect(fromCache).toBeGreaterThanOrEqual(16);
  expect(second).toMatch(/tokens\s+0 in, 0 out/);
}, 240_000);

test('with Redis down the demo runs on L1 + L3, says so once at start, and /health warns instead of failing', async () => {
  const deadRedis = `redis://127.0.0.1:${await freePort()}`;
  const app = await startChildApp({
    script: MAIN,
    args: ['--tasks', '4', '--port', '0', '--error-rate', '0', '--seed', freshSeed()],
    env: { ...FAST, REDIS_URL: deadRedis },
  });
  try {
    await app.waitForOutput(/Serving until/);
    const out = app.output();
    expect(out).toMatch(/cache: L2 unreachable .*serving from L1 \+ L3/);
    expect(out).toMatch(/tasks\s+4 in [\d.]+ s \(4 succeeded, 0 failed\)/);
    const health = (await (await fetch(`${app.url}/health`)).json()) as any;
    expect(health.status).toBe('warn');
    expect(health.checks['cache-l2:responseTime'][0].status).toBe('warn');
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  } finally {
    await app.stop();
  }
});

test('POST /tasks admission control: bounded running + queued, 429 with Retry-After beyond, 503 while draining', async () => {
  const app = await startChildApp({
    script: MAIN,
    args: [
      '--tasks',
      '0',
      '--port',
      '0',
      '--error-rate',
      '0',
      '--max-concurrent-tasks',
      '1',
      '--max-queued-tasks',
      '1',
    ],
    env: {
      PERISCOPE_DEMO_LATENCY_SCALE: '3',
      PERISCOPE_DEMO_CACHE_DIR: CACHE_DIR,
      PERISCOPE_HEALTH_DRAIN_DELAY_MS: '1500',
      PERISCOPE_HEALTH_SHUTDOWN_TIMEOUT_MS: '30000',
    },
  });
  try {
    await app.waitForOutput(/Serving until/);
    const post = (i: number) =>
      fetch(`${app.url}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `Search the docs about admission ${i} ${freshSeed()}.` }),
      });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => post(i)));
    const statuses = answers.map((a) => a.status).sort();
    // One ran, one waited for it, the other four were refused at once.
    expect(statuses).toEqual([200, 200, 429, 429, 429, 429]);
    for (const a of answers.filter((r) => r.status === 429)) {
      expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await a.json()).toMatchObject({ code: 'ERR_DEMO_QUEUE_FULL', error: expect.stringMatching(/queued/) });
    }
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain('periscope_agent_task_rejections_total{reason="queue_full"} 4');
    expect(metrics).toContain('periscope_agent_task_queue_depth 0');
    const status = (await (await fetch(`${app.url}/status`)).json()) as any;
    expect(status.agent.admission).toEqual({ running: 0, queued: 0, maxConcurrent: 1, maxQueued: 1 });

    app.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const draining = await post(99);
    expect(draining.status).toBe(503);
    expect(draining.headers.get('retry-after')).toBe('5');
    expect(await draining.json()).toMatchObject({ code: 'ERR_DEMO_DRAINING' });
    expect((await app.exited).code).toBe(0);
  } finally {
    await app.stop();
  }
}, 60_000);

test('SIGTERM drains: /readyz turns 503 while an in-flight task completes, then exit 0', async () => {
  const app = await startChildApp({
    script: MAIN,
    args: ['--tasks', '0', '--port', '0', '--error-rate', '0'],
    env: {
      PERISCOPE_DEMO_LATENCY_SCALE: '1.5',
      PERISCOPE_HEALTH_DRAIN_DELAY_MS: '800',
      PERISCOPE_HEALTH_SHUTDOWN_TIMEOUT_MS: '20000',
    },
  });
  try {
    await app.waitForOutput(/Serving until/);
    const inFlight = fetch(`${app.url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Search the docs about tail sampling.' }),
    });
    await new Promise((r) => setTimeout(r, 150));
    app.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 150));
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(503);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).answer).toBeTruthy();
    const { code } = await app.exited;
    expect(code).toBe(0);
  } finally {
    await app.stop();
  }
});

test('the shipped Prometheus config and rules pass promtool', () => {
  const config = path.join(path.dirname(RULES), '..', 'prometheus.yml');
  const r = spawnSync(promtoolPath(), ['check', 'config', config], { encoding: 'utf8' });
  expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
  expect(r.status).toBe(0);
});

test('invalid flags print the usage and exit 2; --help exits 0', () => {
  const bad = spawnSync(process.execPath, [MAIN, '--tasks', 'many'], { encoding: 'utf8' });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('--tasks must be an integer from 0 to 100000, got "many"');
  expect(bad.stderr).toContain('Usage: npm run demo');
  const unknown = spawnSync(process.execPath, [MAIN, '--frobnicate'], { encoding: 'utf8' });
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toContain('unknown argument "--frobnicate"');
  const help = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('--concurrency');
});
