// GET /status/series: what the page's sparklines draw, from a real @periscope/metrics History.
import { createMetrics } from '@periscope/metrics';
import { HealthConfigError, HealthServer } from '../src';
import { request } from './helpers';

describe('GET /status/series', () => {
  const m = createMetrics();
  const tasks = m.counter({ name: 'tasks_total', help: 't', labelNames: ['status'] as const });
  const depth = m.gauge({ name: 'queue_depth', help: 'q' });
  const latency = m.histogram({ name: 'llm_seconds', help: 'l', buckets: [0.1, 1, 10] });
  const history = m.history({ series: ['tasks_total', 'queue_depth', 'llm_seconds'], intervalMs: 1000 });
  let server: HealthServer;
  let url: string;

  beforeAll(async () => {
    const t0 = Date.now() + 1000;
    for (let i = 0; i < 4; i++) {
      tasks.inc({ status: 'ok' }, 2 * i); // increases 2, 4, 6 per 2 s step
      tasks.inc({ status: 'error' }, 1);
      depth.set(10 + i);
      for (let k = 0; k < 10; k++) latency.observe(k < 9 ? 0.05 : 5); // nine fast, one slow per step
      history.sample(t0 + i * 2000);
    }
    server = new HealthServer({
      port: 0,
      drainDelayMs: 0,
      env: {},
      page: true,
      metrics: m,
      series: { history, names: ['tasks_total', 'queue_depth', 'llm_seconds'] },
    });
    url = (await server.listen()).url;
  });
  afterAll(async () => {
    await server.close();
    history.close();
    await m.close();
  });

  const get = async (path: string) => {
    const r = await request(url, path);
    return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
  };

  it('lists the names the page draws', async () => {
    expect((await get('/status/series')).body).toEqual({ names: ['tasks_total', 'queue_depth', 'llm_seconds'] });
  });

  it('turns a counter into per-second rates summed over its label sets', async () => {
    const { body } = await get('/status/series?name=tasks_total');
    expect(body.kind).toBe('counter');
    // The history samples once when created, then at our four times: the last three steps are 2 s each.
    expect((body.points as number[][]).map((p) => p[1]).slice(-3)).toEqual([1.5, 2.5, 3.5]); // (2+1)/2, (4+1)/2, (6+1)/2
  });

  it('gives a gauge its value and a histogram its rate and p95 per step', async () => {
    const g = (await get('/status/series?name=queue_depth')).body;
    expect((g.points as number[][]).map((p) => p[1]).slice(-4)).toEqual([10, 11, 12, 13]);
    const h = (await get('/status/series?name=llm_seconds')).body;
    expect((h.points as number[][]).map((p) => p[1]).slice(-3)).toEqual([5, 5, 5]);
    // 9 of 10 observations in (0, 0.1], 1 in (1, 10]: the 95th percentile lies in the slow bucket.
    const p95s = (h.latency as number[][]).slice(-3).map((p) => p[1]);
    expect(p95s).toHaveLength(3);
    for (const p95 of p95s) expect(p95).toBeGreaterThan(1);
  });

  it('answers 404 for a name that is not listed; without a series option the list is empty', async () => {
    const r = await get('/status/series?name=%3Cscript%3E');
    expect(r.status).toBe(404);
    const other = new HealthServer({ port: 0, drainDelayMs: 0, env: {}, page: true });
    try {
      const u = (await other.listen()).url;
      expect(JSON.parse((await request(u, '/status/series')).body)).toEqual({ names: [] });
      expect((await request(u, '/status/series?name=x')).status).toBe(404);
    } finally {
      await other.close();
    }
  });

  it('refuses a series option without a history or names', () => {
    expect(() => new HealthServer({ env: {}, series: { names: ['x'] } as never })).toThrow(HealthConfigError);
    expect(() => new HealthServer({ env: {}, series: { history, names: 'x' } as never })).toThrow(HealthConfigError);
  });
});
