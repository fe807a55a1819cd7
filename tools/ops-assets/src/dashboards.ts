// size: one declarative table of dashboards and panels; splitting it would scatter the table
// Grafana dashboards: five views of the same metrics (overview, agents and LLM, pools and cache,
// GPUs, errors and SLOs). Each carries an annotation of the firing alerts of its areas, named
// from the catalogue, so an alert shows up on the graphs it concerns.
import type { OpsCatalogue } from '@periscope/alerting';

export interface PanelSpec {
  title: string;
  /** One query per line of the graph. */
  queries: Array<{ expr: string; legend: string }>;
  unit: string;
  type?: 'timeseries' | 'stat';
}
export interface DashboardSpec {
  file: string;
  uid: string;
  title: string;
  tags: string[];
  /** Rule groups whose firing alerts annotate the graphs. */
  alertGroups: string[];
  panels: PanelSpec[];
}

const q = (expr: string, legend = '') => ({ expr, legend });
const p = (title: string, unit: string, ...queries: Array<{ expr: string; legend: string }>): PanelSpec => ({
  title,
  unit,
  queries,
});
const stat = (title: string, unit: string, expr: string, legend = ''): PanelSpec => ({
  title,
  unit,
  queries: [q(expr, legend)],
  type: 'stat',
});
const p95 = (metric: string, by: string) =>
  `histogram_quantile(0.95, sum by (le${by === '' ? '' : `, ${by}`}) (rate(${metric}_bucket[5m])))`;
const hitRatio =
  'sum by (cache, tier) (rate(periscope_cache_hits_total[5m])) / clamp_min(sum by (cache, tier) (rate(periscope_cache_hits_total[5m])) + sum by (cache, tier) (rate(periscope_cache_misses_total[5m])), 1e-9)';
const llmErrorRatio = 'periscope:gen_ai_operation_error_ratio:rate5m';

export const DASHBOARDS: DashboardSpec[] = [
  {
    file: 'deploy/grafana/periscope-overview.json',
    uid: 'periscope-overview',
    title: 'Periscope — overview',
    tags: ['periscope'],
    alertGroups: ['periscope-agent', 'periscope-llm', 'periscope-meta', 'periscope-slo'],
    panels: [
      p(
        'Agent tasks per second by outcome',
        'reqps',
        q('sum by (status) (rate(periscope_agent_tasks_total[5m]))', '{{status}}'),
      ),
      p('Agent task error ratio', 'percentunit', q('periscope:agent_task_error_ratio:rate5m', 'error ratio')),
      p('Agent task latency p95', 's', q(p95('periscope_agent_task_duration_seconds', ''), 'p95')),
      p(
        'LLM latency p95 by model',
        's',
        q('periscope:gen_ai_operation_duration_seconds:p95_5m', '{{gen_ai_request_model}}'),
      ),
      p(
        'Tokens per second by type',
        'short',
        q('sum by (gen_ai_token_type) (rate(gen_ai_client_token_usage_sum[5m]))', '{{gen_ai_token_type}}'),
      ),
      p('Cache hit ratio by tier', 'percentunit', q(hitRatio, '{{cache}} {{tier}}')),
      p(
        'Database pool connections',
        'short',
        q('sum by (pool, state) (periscope_db_pool_connections)', '{{pool}} {{state}}'),
      ),
      p('Event-loop delay p99', 's', q('nodejs_eventloop_lag_p99_seconds', '{{instance}}')),
      p('Resident memory', 'bytes', q('process_resident_memory_bytes', '{{instance}}')),
      stat('Targets up', 'short', 'sum(up)'),
    ],
  },
  {
    file: 'deploy/grafana/periscope-agent.json',
    uid: 'periscope-agent',
    title: 'Periscope — agents and LLM',
    tags: ['periscope', 'genai'],
    alertGroups: ['periscope-agent', 'periscope-llm'],
    panels: [
      p(
        'Agent tasks per second by outcome',
        'reqps',
        q('sum by (status) (rate(periscope_agent_tasks_total[5m]))', '{{status}}'),
      ),
      p(
        'Agent task latency',
        's',
        q('histogram_quantile(0.5, sum by (le) (rate(periscope_agent_task_duration_seconds_bucket[5m])))', 'p50'),
        q(p95('periscope_agent_task_duration_seconds', ''), 'p95'),
      ),
      p(
        'Tasks in flight and queued',
        'short',
        q('sum(periscope_agent_tasks_in_flight)', 'in flight'),
        q('sum(periscope_agent_task_queue_depth)', 'queued'),
      ),
      p('Agent iterations per task p95', 'short', q(p95('periscope_agent_iterations', ''), 'p95')),
      p(
        'LLM latency p95 by model',
        's',
        q(p95('gen_ai_client_operation_duration_seconds', 'gen_ai_request_model'), '{{gen_ai_request_model}}'),
      ),
      p(
        'LLM time to first chunk p95 by model (streaming calls)',
        's',
        q(
          p95('gen_ai_client_operation_time_to_first_chunk_seconds', 'gen_ai_request_model'),
          '{{gen_ai_request_model}}',
        ),
      ),
      p('LLM error ratio by model', 'percentunit', q(llmErrorRatio, '{{gen_ai_request_model}}')),
      p(
        'LLM calls per second by model',
        'reqps',
        q(
          'sum by (gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_count[5m]))',
          '{{gen_ai_request_model}}',
        ),
      ),
      p(
        'Tokens per second',
        'short',
        q('sum by (gen_ai_token_type) (rate(gen_ai_client_token_usage_sum[5m]))', '{{gen_ai_token_type}}'),
      ),
      p(
        'Simulated LLM cost per hour',
        'currencyUSD',
        q('sum by (model) (rate(periscope_agent_llm_cost_usd_total[1h])) * 3600', '{{model}}'),
      ),
      p('LLM circuit breaker state', 'short', q('max(periscope_agent_llm_circuit_state)', 'state')),
      p(
        'Tool calls per second',
        'reqps',
        q('sum by (tool, status) (rate(periscope_agent_tool_calls_total[5m]))', '{{tool}} {{status}}'),
      ),
      p('Tool latency p95', 's', q(p95('periscope_agent_tool_duration_seconds', 'tool'), '{{tool}}')),
    ],
  },
  {
    file: 'deploy/grafana/periscope-pools-cache.json',
    uid: 'periscope-pools-cache',
    title: 'Periscope — pools and cache',
    tags: ['periscope', 'cache', 'database'],
    alertGroups: ['periscope-cache', 'periscope-pools'],
    panels: [
      p('Cache hit ratio by tier', 'percentunit', q(hitRatio, '{{cache}} {{tier}}')),
      p(
        'Cache operation latency p95 by tier',
        's',
        q(p95('periscope_cache_operation_duration_seconds', 'cache, tier'), '{{cache}} {{tier}}'),
      ),
      p('Cache entries', 'short', q('sum by (cache, tier) (periscope_cache_entries)', '{{cache}} {{tier}}')),
      p('Cache size', 'bytes', q('sum by (cache, tier) (periscope_cache_size_bytes)', '{{cache}} {{tier}}')),
      p(
        'Cache evictions per second',
        'ops',
        q('sum by (cache, tier) (rate(periscope_cache_evictions_total[5m]))', '{{cache}} {{tier}}'),
      ),
      p(
        'Cache errors per second',
        'ops',
        q('sum by (cache, tier) (rate(periscope_cache_errors_total[5m]))', '{{cache}} {{tier}}'),
      ),
      p(
        'Cache L2 breaker (0 closed, 1 half-open, 2 open)',
        'short',
        q('max by (cache) (periscope_cache_breaker_state)', '{{cache}}'),
      ),
      p('Cache factory latency p95', 's', q(p95('periscope_cache_factory_duration_seconds', 'cache'), '{{cache}}')),
      p(
        'Database pool connections',
        'short',
        q('sum by (pool, state) (periscope_db_pool_connections)', '{{pool}} {{state}}'),
      ),
      p('Database pool acquire wait p95', 's', q(p95('periscope_db_pool_acquire_wait_seconds', 'pool'), '{{pool}}')),
      p('Database query latency p95', 's', q(p95('periscope_db_pool_query_duration_seconds', 'pool'), '{{pool}}')),
      p(
        'Acquire timeouts and leaks (15m)',
        'short',
        q('sum by (pool) (increase(periscope_db_pool_acquire_timeouts_total[15m]))', '{{pool}} timeouts'),
        q('sum by (pool) (increase(periscope_db_pool_leaks_total[15m]))', '{{pool}} leaks'),
      ),
    ],
  },
  {
    file: 'deploy/grafana/periscope-gpus.json',
    uid: 'periscope-gpus',
    title: 'Periscope — GPUs',
    tags: ['periscope', 'gpu'],
    alertGroups: ['periscope-gpu'],
    panels: [
      p('GPU utilization', 'percent', q('DCGM_FI_DEV_GPU_UTIL', '{{gpu}} {{modelName}}')),
      p(
        'GPU memory used',
        'percentunit',
        q('DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)', '{{gpu}}'),
      ),
      p('GPU temperature', 'celsius', q('DCGM_FI_DEV_GPU_TEMP', '{{gpu}}')),
      p('GPU power', 'watt', q('DCGM_FI_DEV_POWER_USAGE', '{{gpu}}')),
      p('Healthy devices', 'short', q('sum by (pool) (periscope_gpu_pool_device_healthy)', '{{pool}}')),
      p('Active leases', 'short', q('sum by (pool) (periscope_gpu_pool_leases_active)', '{{pool}}')),
      p('Lease queue depth', 'short', q('sum by (pool) (periscope_gpu_pool_queue_depth)', '{{pool}}')),
      p('Lease wait p95', 's', q(p95('periscope_gpu_pool_wait_seconds', 'pool'), '{{pool}}')),
      p(
        'Rejected lease requests per second',
        'ops',
        q('sum by (pool) (rate(periscope_gpu_pool_rejected_total[5m]))', '{{pool}}'),
      ),
      p('Reserved GPU memory', 'bytes', q('sum by (pool) (periscope_gpu_pool_memory_reserved_bytes)', '{{pool}}')),
    ],
  },
  {
    file: 'deploy/grafana/periscope-errors-slos.json',
    uid: 'periscope-errors-slos',
    title: 'Periscope — errors and SLOs',
    tags: ['periscope', 'slo'],
    alertGroups: ['periscope-slo', 'periscope-meta', 'periscope-runtime'],
    panels: [
      stat('Error budget remaining', 'percentunit', 'slo:error_budget_remaining:ratio', '{{slo}}'),
      p(
        'Burn rate (1h, 6h)',
        'short',
        q('slo:sli_error:ratio_rate1h / on (slo) slo:error_budget:ratio', '{{slo}} 1h'),
        q('slo:sli_error:ratio_rate6h / on (slo) slo:error_budget:ratio', '{{slo}} 6h'),
      ),
      p('SLI error ratio (5m)', 'percentunit', q('slo:sli_error:ratio_rate5m', '{{slo}}')),
      p('Firing alerts by severity', 'short', q('count by (severity) (ALERTS{alertstate="firing"})', '{{severity}}')),
      p('Agent task error ratio', 'percentunit', q('periscope:agent_task_error_ratio:rate5m', 'tasks')),
      p('LLM error ratio by model', 'percentunit', q(llmErrorRatio, '{{gen_ai_request_model}}')),
      p('Tool errors per second', 'ops', q('sum by (tool) (rate(periscope_agent_tool_errors_total[5m]))', '{{tool}}')),
      p(
        'Cache errors per second',
        'ops',
        q('sum by (cache, tier) (rate(periscope_cache_errors_total[5m]))', '{{cache}} {{tier}}'),
      ),
      p(
        'Database pool errors per second',
        'ops',
        q('sum by (pool) (rate(periscope_db_pool_errors_total[5m]))', '{{pool}}'),
      ),
      p('Scrape targets up', 'short', q('up', '{{job}} {{instance}}')),
    ],
  },
];

function panelJson(panel: PanelSpec, index: number) {
  return {
    id: index + 1,
    type: panel.type ?? 'timeseries',
    title: panel.title,
    gridPos: { x: (index % 2) * 12, y: Math.floor(index / 2) * 8, w: 12, h: 8 },
    datasource: { type: 'prometheus', uid: '${datasource}' },
    fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
    targets: panel.queries.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      expr: t.expr,
      legendFormat: t.legend,
    })),
  };
}

/** The firing alerts of the dashboard's rule groups, as a Grafana annotation query. */
function alertAnnotation(spec: DashboardSpec, catalogue: OpsCatalogue) {
  const names = [
    ...new Set(
      catalogue.groups.filter((g) => spec.alertGroups.includes(g.name)).flatMap((g) => g.alerts.map((a) => a.alert)),
    ),
  ].sort();
  if (names.length === 0) throw new Error(`dashboard ${spec.uid}: its alert groups hold no alert`);
  return {
    name: 'Firing alerts',
    datasource: { type: 'prometheus', uid: '${datasource}' },
    enable: true,
    iconColor: 'red',
    expr: `ALERTS{alertstate="firing", alertname=~"${names.join('|')}"}`,
    step: '60s',
    titleFormat: '{{alertname}}',
    textFormat: '{{severity}}: {{alertname}}',
    tagKeys: 'severity,alertname',
    useValueForTime: false,
  };
}

export function dashboardJson(spec: DashboardSpec, catalogue: OpsCatalogue): string {
  const doc = {
    title: spec.title,
    uid: spec.uid,
    schemaVersion: 39,
    version: 1,
    editable: false,
    description: 'Generated by `npx nx run tools-ops-assets:generate` (tools/ops-assets): do not edit.',
    tags: spec.tags,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }] },
    annotations: { list: [alertAnnotation(spec, catalogue)] },
    panels: spec.panels.map(panelJson),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
