import fc from 'fast-check';
import { createMetrics } from '@periscope/metrics';
import {
  BURN_RATE_WINDOWS,
  historySource,
  sloStatus,
  defaultOpsCatalogue,
  defineSlo,
  RuleError,
  SLO_FAST_BURN_ALERT,
  SLO_SLOW_BURN_ALERT,
} from '../src';

const tasks = { good: 'tasks_total{status="ok"}', total: 'tasks_total' };

describe('defineSlo', () => {
  test('records the error ratio for every alert window and the SLO window, and the budget remaining', () => {
    const slo = defineSlo({ name: 'task_success', sli: tasks, objective: 0.999, window: '28d' });
    expect(slo.windowMs).toBe(28 * 86_400_000);
    const ratios = slo.recordingRules.filter((r) => r.record.startsWith('slo:sli_error:ratio_rate'));
    expect(ratios.map((r) => r.record)).toEqual(
      ['5m', '1h', '30m', '6h', '3d', '28d'].map((w) => `slo:sli_error:ratio_rate${w}`),
    );
    for (const r of slo.recordingRules) expect(r.labels).toEqual({ slo: 'task_success' });
    expect(ratios[0].expr).toBe(
      '(sum(rate(tasks_total[5m])) - (sum(rate(tasks_total{status="ok"}[5m])) or 0 * sum(rate(tasks_total[5m])))) / clamp_min(sum(rate(tasks_total[5m])), 1e-12)',
    );
    const budget = slo.recordingRules.find((r) => r.record === 'slo:error_budget:ratio');
    expect(budget?.expr).toBe('vector(0.001)');
    const remaining = slo.recordingRules.find((r) => r.record === 'slo:error_budget_remaining:ratio');
    expect(remaining?.expr).toContain('slo:sli_error:ratio_rate28d{slo="task_success"}');
  });

  test('pages on the 14.4x (1h and 5m) or 6x (6h and 30m) burn, tickets on the 1x (3d and 6h) burn', () => {
    const slo = defineSlo({
      name: 'task_success',
      sli: tasks,
      objective: 0.99,
      runbookBaseUrl: 'https://r.example/rb/',
    });
    const [fast, slow] = slo.alerts;
    expect(fast.alert).toBe(SLO_FAST_BURN_ALERT);
    expect(fast.labels).toEqual({ severity: 'critical', slo: 'task_success' });
    expect(fast.expr).toBe(
      '(slo:sli_error:ratio_rate1h{slo="task_success"} > 14.4 * 0.01 and slo:sli_error:ratio_rate5m{slo="task_success"} > 14.4 * 0.01)' +
        ' or (slo:sli_error:ratio_rate6h{slo="task_success"} > 6 * 0.01 and slo:sli_error:ratio_rate30m{slo="task_success"} > 6 * 0.01)',
    );
    expect(slow.alert).toBe(SLO_SLOW_BURN_ALERT);
    expect(slow.labels.severity).toBe('warning');
    expect(slow.expr).toContain('slo:sli_error:ratio_rate3d{slo="task_success"} > 1 * 0.01');
    expect(fast.annotations.runbook_url).toBe('https://r.example/rb/SloErrorBudgetBurnFast.md');
    expect(BURN_RATE_WINDOWS.map((w) => w.factor)).toEqual([14.4, 6, 1]);
  });

  test('a latency SLI counts the observations at or under the threshold bucket as good', () => {
    const slo = defineSlo({
      name: 'llm_latency',
      sli: { latency: { metric: 'llm_seconds', thresholdSeconds: 10, matchers: 'model="a"' } },
      objective: 0.95,
    });
    const expr = slo.errorRatioExpr('5m');
    // Prometheus 3 normalises le to "10.0"; older servers keep "10": both match.
    expect(expr).toContain('llm_seconds_bucket{model="a", le=~"10|10\\\\.0"}[5m]');
    expect(expr).toContain('sum(rate(llm_seconds_count{model="a"}[5m]))');
    expect(
      defineSlo({ name: 'l', sli: { latency: { metric: 'h', thresholdSeconds: 2.5 } }, objective: 0.9 }).errorRatioExpr(
        '1h',
      ),
    ).toContain('h_bucket{le=~"2\\\\.5"}[1h]');
  });

  test('invalid definitions fail with a RuleError naming the field', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ name: 'Task', sli: tasks, objective: 0.99 }, /snake_case/],
      [{ name: 't', sli: tasks, objective: 99 }, /objective must be a ratio between 0 and 1/],
      [{ name: 't', sli: tasks, objective: 1 }, /objective/],
      [{ name: 't', sli: tasks, objective: 0.99, window: '12h' }, /window must be a duration like 30d/],
      [{ name: 't', sli: tasks, objective: 0.99, window: '30 days' }, /window/],
      [{ name: 't', sli: { good: 'rate(x[5m])', total: 'x' }, objective: 0.99 }, /sli.good must be a metric selector/],
      [{ name: 't', sli: { latency: { metric: 'h_bucket', thresholdSeconds: 1 } }, objective: 0.99 }, /base name/],
      [{ name: 't', sli: { latency: { metric: 'h', thresholdSeconds: 0 } }, objective: 0.99 }, /thresholdSeconds/],
    ];
    for (const [def, message] of bad) {
      const run = () => defineSlo(def as Parameters<typeof defineSlo>[0]);
      expect(run).toThrow(RuleError);
      expect(run).toThrow(message);
    }
  });

  test('property: any objective in (0, 1) gives a budget of 1 - objective and thresholds factor x budget', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 0.99999, noNaN: true }), (objective) => {
        const slo = defineSlo({ name: 's', sli: tasks, objective });
        const budget = Number(slo.recordingRules.find((r) => r.record === 'slo:error_budget:ratio')!.expr.slice(7, -1));
        expect(budget).toBeCloseTo(1 - objective, 10);
        expect(slo.alerts[0].expr).toContain(`> 14.4 * ${budget} and`);
      }),
    );
  });
});

describe('defaultOpsCatalogue', () => {
  const cat = defaultOpsCatalogue({ runbookBaseUrl: 'https://example.test/runbooks' });

  test('covers the agreed areas with a runbook for every alert', () => {
    const names = new Set(cat.groups.flatMap((g) => g.alerts.map((a) => a.alert)));
    for (const n of [
      'AgentTaskErrorRatioHigh',
      'AgentTaskLatencyHigh',
      'GenAiErrorRatioHigh',
      'GenAiLatencyHigh',
      'GenAiTimeToFirstChunkHigh',
      'GenAiTokenSpendHigh',
      'AgentToolErrorRatioHigh',
      'CacheHitRatioDrop',
      'CacheL2BreakerOpen',
      'DbPoolSaturated',
      'DbPoolAcquireTimeouts',
      'DbPoolConnectionLeaks',
      'EventLoopDelayHigh',
      'ProcessMemoryHigh',
      'GpuMemoryHigh',
      'GpuTemperatureHigh',
      'GpuUnhealthy',
      'ScrapeTargetDown',
      SLO_FAST_BURN_ALERT,
      SLO_SLOW_BURN_ALERT,
      'Watchdog',
    ])
      expect(names).toContain(n);
    for (const n of names) expect(Object.keys(cat.runbooks)).toContain(n);
    expect(Object.keys(cat.runbooks).sort()).toEqual([...names].sort());
  });

  test('includes defaultRules() verbatim, so the in-process and Prometheus rules are the same text', () => {
    const llm = cat.groups.find((g) => g.name === 'periscope-llm')!;
    const genAi = llm.alerts.filter((a) => a.alert === 'GenAiErrorRatioHigh');
    expect(genAi.map((a) => a.labels.severity).sort()).toEqual(['critical', 'warning']);
    for (const a of cat.groups.flatMap((g) => g.alerts))
      expect(a.annotations.runbook_url).toBe(`https://example.test/runbooks/${a.alert}.md`);
  });
});

describe('sloStatus (in-process, over the metrics history)', () => {
  test('gives the error ratio and budget remaining of a ratio and a latency SLO, like the recording rules', async () => {
    const metrics = createMetrics();
    const tasksTotal = metrics.counter({ name: 'tasks_total', help: 't', labelNames: ['status'] as const });
    const llm = metrics.histogram({ name: 'llm_seconds', help: 'l', buckets: [1, 10.24, 40.96] });
    const history = metrics.history({ series: ['tasks_total', 'llm_seconds'], intervalMs: 1000, retentionMs: 600_000 });
    const source = historySource(history);
    const taskSlo = defineSlo({ name: 'tasks', sli: tasks, objective: 0.9 });
    const latencySlo = defineSlo({
      name: 'lat',
      sli: { latency: { metric: 'llm_seconds', thresholdSeconds: 10.24 } },
      objective: 0.5,
    });
    try {
      let t = Date.now();
      tasksTotal.inc({ status: 'ok' }, 0);
      tasksTotal.inc({ status: 'error' }, 0);
      history.sample((t += 1000));
      // No event yet: nothing spent.
      expect(sloStatus(taskSlo, source, t)).toMatchObject({
        totalEvents: 0,
        errorRatio: 0,
        budgetRemaining: 1,
        window: '30d',
      });
      for (let i = 0; i < 10; i++) {
        tasksTotal.inc({ status: 'ok' }, 19);
        tasksTotal.inc({ status: 'error' }, 1);
        for (const v of [0.5, 5, 20, 30]) llm.observe(v);
        history.sample((t += 1000));
      }
      const s = sloStatus(taskSlo, source, t);
      expect(s.errorRatio).toBeCloseTo(0.05, 6);
      expect(s.budgetRemaining).toBeCloseTo(0.5, 6);
      const l = sloStatus(latencySlo, source, t);
      expect(l.errorRatio).toBeCloseTo(0.5, 6); // 20 s and 30 s are over 10.24 s
      expect(l.budgetRemaining).toBeCloseTo(0, 6);
    } finally {
      history.close();
      await metrics.close();
    }
  });
});
