// size: one declarative table (alerts, recording rules, runbook text); splitting it would scatter the table
// The ops catalogue's own alerts and recording rules, in full PromQL for Prometheus, and the
// runbook of every shipped alert (these, defaultRules()' and the SLO burn alerts).
import type { PrometheusAlert, PrometheusRecordingRule } from './slo';

export interface Runbook {
  /** What the alert means, one paragraph. */
  meaning: string;
  /** How to confirm it (queries, endpoints). */
  confirm: string[];
  /** What to do. */
  act: string[];
}

const alert = (
  group: string,
  name: string,
  expr: string,
  forDuration: string | undefined,
  severity: string,
  summary: string,
  description: string,
): { group: string; alert: PrometheusAlert } => ({
  group,
  alert: {
    alert: name,
    expr,
    ...(forDuration === undefined ? {} : { for: forDuration }),
    labels: { severity },
    annotations: { summary, description },
  },
});

const hist = (metric: string, by: string, q = 0.95, range = '5m') =>
  `histogram_quantile(${q}, sum by (${by}) (rate(${metric}_bucket[${range}])))`;
const cacheRatio = (range: string) =>
  `(sum by (cache, tier) (rate(periscope_cache_hits_total[${range}])) / (sum by (cache, tier) (rate(periscope_cache_hits_total[${range}])) + sum by (cache, tier) (rate(periscope_cache_misses_total[${range}]))))`;
const genAiCalls = (filter: string) =>
  `sum by (gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_count${filter}[5m]))`;

export const CATALOGUE_RECORDING_RULES: ReadonlyArray<{ group: string; rule: PrometheusRecordingRule }> = [
  {
    group: 'periscope-agent',
    rule: {
      record: 'periscope:agent_task_error_ratio:rate5m',
      // `or vector(0)`: with no failed task yet there is no error series, and the ratio is 0, not absent.
      expr: '(sum(rate(periscope_agent_tasks_total{status="error"}[5m])) or vector(0)) / clamp_min(sum(rate(periscope_agent_tasks_total[5m])), 1e-9)',
      labels: {},
    },
  },
  {
    group: 'periscope-llm',
    rule: {
      record: 'periscope:gen_ai_operation_duration_seconds:p95_5m',
      expr: hist('gen_ai_client_operation_duration_seconds', 'le, gen_ai_request_model'),
      labels: {},
    },
  },
  {
    group: 'periscope-llm',
    rule: {
      record: 'periscope:gen_ai_operation_error_ratio:rate5m',
      expr: `(${genAiCalls('{error_type!=""}')} or ${genAiCalls('')} * 0) / clamp_min(${genAiCalls('')}, 1e-9)`,
      labels: {},
    },
  },
];

export const CATALOGUE_ALERTS: ReadonlyArray<{ group: string; alert: PrometheusAlert }> = [
  alert(
    'periscope-agent',
    'AgentTaskErrorRatioHigh',
    'periscope:agent_task_error_ratio:rate5m > 0.05',
    '10m',
    'warning',
    'More than 5 % of agent tasks fail',
    '{{ $value | humanizePercentage }} of tasks failed over 5 minutes.',
  ),
  alert(
    'periscope-agent',
    'AgentTaskLatencyHigh',
    `${hist('periscope_agent_task_duration_seconds', 'le')} > 60`,
    '10m',
    'warning',
    'p95 agent task latency above 60 s',
    'p95 over 5 minutes: {{ $value | humanizeDuration }}.',
  ),
  alert(
    'periscope-agent',
    'AgentToolErrorRatioHigh',
    'sum by (tool) (rate(periscope_agent_tool_errors_total[5m])) / sum by (tool) (rate(periscope_agent_tool_calls_total[5m])) > 0.1',
    '10m',
    'warning',
    'More than 10 % of {{ $labels.tool }} tool calls fail',
    'Error ratio over 5 minutes: {{ $value | humanizePercentage }}.',
  ),
  alert(
    'periscope-llm',
    'GenAiTimeToFirstChunkHigh',
    `${hist('gen_ai_client_operation_time_to_first_chunk_seconds', 'le, gen_ai_request_model')} > 5`,
    '10m',
    'warning',
    'p95 time to first token of {{ $labels.gen_ai_request_model }} above 5 s',
    'p95 over 5 minutes: {{ $value | humanizeDuration }}.',
  ),
  alert(
    'periscope-llm',
    'GenAiTokenSpendHigh',
    'sum by (gen_ai_request_model) (rate(gen_ai_client_token_usage_sum[1h])) * 3600 > 5e+06',
    '15m',
    'warning',
    '{{ $labels.gen_ai_request_model }} uses more than 5 M tokens an hour',
    'Tokens per hour over the last hour: {{ $value | humanize }}.',
  ),
  alert(
    'periscope-cache',
    'CacheHitRatioDrop',
    `${cacheRatio('10m')} < 0.5 * ${cacheRatio('6h')} and ${cacheRatio('6h')} > 0.2`,
    '10m',
    'warning',
    'Hit ratio of cache {{ $labels.cache }} ({{ $labels.tier }}) fell to under half its 6 h level',
    'Hit ratio over 10 minutes: {{ $value | humanizePercentage }}.',
  ),
  alert(
    'periscope-cache',
    'CacheL2BreakerOpen',
    'max by (cache) (periscope_cache_breaker_state) == 2',
    '5m',
    'warning',
    'The Redis (L2) circuit breaker of cache {{ $labels.cache }} is open',
    'The cache serves from L1/L3 only and skips Redis.',
  ),
  alert(
    'periscope-pools',
    'DbPoolSaturated',
    'sum by (pool) (periscope_db_pool_connections{state="active"}) / sum by (pool) (periscope_db_pool_connections{state="total"}) >= 0.9 and sum by (pool) (periscope_db_pool_connections{state="pending"}) > 0',
    '5m',
    'warning',
    'Pool {{ $labels.pool }} is saturated: ≥ 90 % of connections busy and callers waiting',
    'Busy ratio: {{ $value | humanizePercentage }}.',
  ),
  alert(
    'periscope-pools',
    'DbPoolConnectionLeaks',
    'sum by (pool) (increase(periscope_db_pool_leaks_total[15m])) > 0',
    undefined,
    'warning',
    'Pool {{ $labels.pool }} detected connections held past the leak threshold',
    'Leaks in 15 minutes: {{ $value }}.',
  ),
  alert(
    'periscope-pools',
    'GpuPoolRequestsRejected',
    'sum by (pool) (increase(periscope_gpu_pool_rejected_total[10m])) > 0',
    undefined,
    'warning',
    'GPU pool {{ $labels.pool }} rejects lease requests',
    'Rejections in 10 minutes: {{ $value }}.',
  ),
  alert(
    'periscope-runtime',
    'EventLoopDelayHigh',
    'nodejs_eventloop_lag_p99_seconds > 0.2',
    '5m',
    'warning',
    'Event-loop delay p99 of {{ $labels.instance }} above 200 ms',
    'p99 delay: {{ $value | humanizeDuration }}.',
  ),
  alert(
    'periscope-runtime',
    'ProcessMemoryHigh',
    'process_resident_memory_bytes > 2 * 1024 * 1024 * 1024',
    '15m',
    'warning',
    'Resident memory of {{ $labels.instance }} above 2 GiB',
    'Resident set size: {{ $value | humanize1024 }}B.',
  ),
  alert(
    'periscope-gpu',
    'GpuMemoryHigh',
    'DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 0.95',
    '10m',
    'warning',
    'GPU {{ $labels.gpu }} ({{ $labels.UUID }}) memory more than 95 % used',
    'Framebuffer used: {{ $value | humanizePercentage }}.',
  ),
  alert(
    'periscope-gpu',
    'GpuTemperatureHigh',
    'DCGM_FI_DEV_GPU_TEMP > 85',
    '5m',
    'warning',
    'GPU {{ $labels.gpu }} ({{ $labels.UUID }}) above 85 °C',
    'Temperature: {{ $value }} °C.',
  ),
  alert(
    'periscope-gpu',
    'GpuUnhealthy',
    'periscope_gpu_pool_device_healthy == 0',
    '1m',
    'critical',
    'GPU {{ $labels.UUID }} of pool {{ $labels.pool }} is unhealthy (ECC errors, lost, or over limits)',
    'The pool takes no new leases on it; see /status for the reason.',
  ),
  alert(
    'periscope-meta',
    'ScrapeTargetDown',
    'up == 0',
    '2m',
    'critical',
    '{{ $labels.job }} target {{ $labels.instance }} is down or not scraped',
    'Prometheus could not scrape it for 2 minutes.',
  ),
  alert(
    'periscope-meta',
    'Watchdog',
    'vector(1)',
    undefined,
    'none',
    'Always firing: proves the alerting pipeline works end to end',
    'If this alert stops arriving at the dead-man switch, Prometheus or Alertmanager is broken.',
  ),
];

const QUERY = (q: string) => `Query Prometheus: \`${q}\``;
const STATUS = "Look at the service's `/status` (JSON) and `/health` for the component named in the alert.";

export const RUNBOOKS: Readonly<Record<string, Runbook>> = {
  AgentTaskErrorRatioHigh: {
    meaning: 'More than 5 % of agent tasks ended in error for 10 minutes. Users see failed answers.',
    confirm: [
      QUERY('periscope:agent_task_error_ratio:rate5m'),
      'Check the error logs (`level=error`) for the failing step: LLM, tool, database or cache.',
    ],
    act: [
      'If LLM calls fail, see GenAiErrorRatioHigh; if a tool fails, see AgentToolErrorRatioHigh.',
      'Roll back a recent deploy if the ratio rose with it.',
    ],
  },
  AgentTaskLatencyHigh: {
    meaning: 'The 95th percentile of agent task duration is above 60 s for 10 minutes.',
    confirm: [
      QUERY('histogram_quantile(0.95, sum by (le) (rate(periscope_agent_task_duration_seconds_bucket[5m])))'),
      'Compare with LLM latency (GenAiLatencyHigh) and tool durations (`periscope_agent_tool_duration_seconds`).',
    ],
    act: [
      'Find the slow step in the traces (`invoke_agent` spans) and act on it.',
      'Shed load (lower admission limits) if the task queue grows.',
    ],
  },
  AgentToolErrorRatioHigh: {
    meaning: 'More than 10 % of the calls of one tool fail for 10 minutes.',
    confirm: [
      QUERY('sum by (tool) (rate(periscope_agent_tool_errors_total[5m]))'),
      'Look at `execute_tool` spans with errors for the tool.',
    ],
    act: [
      'Check the dependency of the tool (database for knowledge-base search, GPU pool for embeddings).',
      'Disable the tool if it cannot recover and the agent can answer without it.',
    ],
  },
  GenAiErrorRatioHigh: {
    meaning:
      'LLM calls to a model fail (warning above 5 %, critical above 20 %). Failed calls carry `error_type` on `gen_ai_client_operation_duration_seconds`.',
    confirm: [
      QUERY(
        'sum by (gen_ai_request_model, error_type) (rate(gen_ai_client_operation_duration_seconds_count{error_type!=""}[5m]))',
      ),
      'Check the provider status page and the `chat {model}` spans with errors.',
    ],
    act: [
      'Rate limits (429): lower concurrency or raise the quota.',
      'Provider outage: fail over to another model or provider; the circuit breaker limits the damage meanwhile.',
    ],
  },
  GenAiLatencyHigh: {
    meaning: 'The p95 duration of LLM calls to a model is above 20 s for 5 minutes.',
    confirm: [
      QUERY('periscope:gen_ai_operation_duration_seconds:p95_5m'),
      'Compare output token counts: longer answers take longer.',
    ],
    act: [
      'Check the provider status page; switch to a faster model for latency-sensitive tasks.',
      'Lower max output tokens if answers grew.',
    ],
  },
  GenAiTimeToFirstChunkHigh: {
    meaning: 'Streaming LLM calls wait more than 5 s (p95) for their first token, for 10 minutes.',
    confirm: [
      QUERY(
        'histogram_quantile(0.95, sum by (le, gen_ai_request_model) (rate(gen_ai_client_operation_time_to_first_chunk_seconds_bucket[5m])))',
      ),
    ],
    act: [
      'Usually provider queueing: check its status page and our request rate.',
      'Shorter prompts (fewer input tokens) lower the time to first token.',
    ],
  },
  GenAiTokenSpendHigh: {
    meaning: 'A model consumed more than 5 million tokens in the last hour: the bill grows faster than planned.',
    confirm: [
      QUERY('sum by (gen_ai_request_model, gen_ai_token_type) (rate(gen_ai_client_token_usage_sum[1h])) * 3600'),
      'Look for a task that loops (`periscope_agent_iterations`) or a cache that stopped hitting.',
    ],
    act: [
      'Stop the runaway caller; check that the LLM response cache hits (CacheHitRatioDrop).',
      'Raise the threshold only with a budget decision.',
    ],
  },
  CacheHitRatioDrop: {
    meaning:
      'The hit ratio of a cache tier over 10 minutes fell under half of its 6-hour level. More work reaches the LLM, the database or the GPUs.',
    confirm: [
      QUERY(
        'sum by (cache, tier) (rate(periscope_cache_hits_total[10m])) / (sum by (cache, tier) (rate(periscope_cache_hits_total[10m])) + sum by (cache, tier) (rate(periscope_cache_misses_total[10m])))',
      ),
      'Check evictions (`periscope_cache_evictions_total`) and a recent change of cache keys.',
    ],
    act: [
      'A deploy that changed key derivation invalidates everything: expect recovery as the cache refills.',
      'Evictions high: raise the size limit of the tier.',
      'L2 breaker open: see CacheL2BreakerOpen.',
    ],
  },
  CacheL2BreakerOpen: {
    meaning:
      'The circuit breaker of the Redis tier is open for 5 minutes: the cache skips Redis and serves from memory and disk only.',
    confirm: [QUERY('periscope_cache_breaker_state'), '`redis-cli -u $REDIS_URL ping` from the pod.', STATUS],
    act: ['Restore Redis (memory, network, failover); the breaker half-opens and closes by itself.'],
  },
  CacheErrors: {
    meaning:
      'A cache tier fails more than once a second for 2 minutes (timeouts, serialization, Redis or disk errors).',
    confirm: [QUERY('sum by (cache, tier, reason) (rate(periscope_cache_errors_total[5m]))'), STATUS],
    act: [
      'Redis tier: check Redis health and latency. Disk tier: check free space and permissions of the cache directory.',
    ],
  },
  DbPoolSaturated: {
    meaning: 'At least 90 % of the connections of a pool are in use and callers are waiting, for 5 minutes.',
    confirm: [
      QUERY('sum by (pool, state) (periscope_db_pool_connections)'),
      'Check slow queries (`periscope_db_pool_query_duration_seconds`) and `pg_stat_activity`.',
    ],
    act: ['Slow queries: fix or cancel them. Steady load: raise the pool size (and PostgreSQL max_connections).'],
  },
  DbPoolAcquireTimeouts: {
    meaning: 'Callers gave up waiting for a database connection within the acquire timeout.',
    confirm: [
      QUERY('sum by (pool) (increase(periscope_db_pool_acquire_timeouts_total[5m]))'),
      'See DbPoolSaturated and DbPoolConnectionLeaks.',
    ],
    act: ['Find what holds connections (long transactions, leaks) and release them; then consider a larger pool.'],
  },
  DbPoolAcquireWaitHigh: {
    meaning: 'The p95 wait for a database connection is above 500 ms for 5 minutes.',
    confirm: [
      QUERY('histogram_quantile(0.95, sum by (le, pool) (rate(periscope_db_pool_acquire_wait_seconds_bucket[5m])))'),
    ],
    act: ['As for DbPoolSaturated: shorten queries and transactions, or grow the pool.'],
  },
  DbPoolConnectionLeaks: {
    meaning: 'The pool saw connections held longer than its leak-detection threshold.',
    confirm: [
      QUERY('sum by (pool) (increase(periscope_db_pool_leaks_total[15m]))'),
      'The warning log of each leak carries the acquiring stack.',
    ],
    act: ['Fix the code path in the stack: release the connection in `finally` or use `withConnection`/`transaction`.'],
  },
  GpuPoolRequestsRejected: {
    meaning: 'The GPU pool rejected lease requests (queue full, timeouts or no device that fits).',
    confirm: [
      QUERY('sum by (pool, reason) (increase(periscope_gpu_pool_rejected_total[10m]))'),
      QUERY('periscope_gpu_pool_queue_depth'),
    ],
    act: ['Add GPUs or lower the work that needs them; check for unhealthy devices (GpuUnhealthy).'],
  },
  EventLoopDelayHigh: {
    meaning:
      'The Node.js event loop is blocked: p99 delay above 200 ms for 5 minutes. Every request and probe is slowed.',
    confirm: [
      QUERY('nodejs_eventloop_lag_p99_seconds'),
      'Take a CPU profile (`/debug/pprof/profile` with the debug token) and look at the top functions.',
    ],
    act: [
      'Move the synchronous hot spot off the loop (worker thread) or split it.',
      'Scale out if the CPU is saturated.',
    ],
  },
  ProcessMemoryHigh: {
    meaning:
      'The resident memory of a process is above 2 GiB for 15 minutes (tune the threshold to the container limit).',
    confirm: [
      QUERY('process_resident_memory_bytes'),
      QUERY('nodejs_heap_size_used_bytes'),
      'Take a heap profile and compare two snapshots.',
    ],
    act: [
      'A steady climb is a leak: find the growing retainer in the heap profile.',
      'Restart the instance to buy time.',
    ],
  },
  GpuMemoryHigh: {
    meaning: "More than 95 % of a GPU's memory is used for 10 minutes; new allocations may fail with out-of-memory.",
    confirm: [QUERY('DCGM_FI_DEV_FB_USED'), '`nvidia-smi` on the node.'],
    act: ['Find the process holding memory; lower batch sizes or move models to another GPU.'],
  },
  GpuTemperatureHigh: {
    meaning: 'A GPU is above 85 °C for 5 minutes; it will throttle and may shut down.',
    confirm: [QUERY('DCGM_FI_DEV_GPU_TEMP'), '`nvidia-smi -q -d TEMPERATURE,PERFORMANCE`.'],
    act: ["Check the node's cooling and fans; drain the GPU if it keeps rising."],
  },
  GpuUnhealthy: {
    meaning:
      'The GPU pool marked a device unhealthy (uncorrected ECC errors, lost device, temperature or memory limits) and takes no new leases on it.',
    confirm: [
      QUERY('periscope_gpu_pool_device_healthy == 0'),
      '`nvidia-smi -q -d ECC` for uncorrected volatile ECC errors.',
      STATUS,
    ],
    act: ['Drain the node and reset the GPU; replace it if ECC errors recur.'],
  },
  ScrapeTargetDown: {
    meaning: 'Prometheus cannot scrape a target for 2 minutes: the instance is down, or its /metrics is unreachable.',
    confirm: [QUERY('up == 0'), 'Open the Targets page of Prometheus for the scrape error; `curl <instance>/livez`.'],
    act: ['Restart the instance if it is wedged; fix the network policy or service discovery if it runs.'],
  },
  Watchdog: {
    meaning:
      'Always firing, by design: a dead-man switch. It is routed to a heartbeat receiver that pages when it stops arriving.',
    confirm: ['It should be firing in Alertmanager at all times.'],
    act: [
      'Nothing while it fires. If the heartbeat receiver says it stopped: check Prometheus, its rule evaluation, and Alertmanager.',
    ],
  },
  AlertNotificationsFailing: {
    meaning: 'The in-process alert manager failed to deliver notifications to a channel in the last 15 minutes.',
    confirm: [
      QUERY('sum by (channel) (increase(periscope_alerting_notifications_total{result="failed"}[15m]))'),
      'The warning logs name the channel and the HTTP/SMTP error.',
    ],
    act: ['Fix the channel credentials or endpoint; alerts meanwhile reach only the other channels.'],
  },
  SloErrorBudgetBurnFast: {
    meaning:
      'An SLO consumes its error budget fast: 14.4× the sustainable rate over 1 h (and 5 m), or 6× over 6 h (and 30 m). At this pace 2 % (5 %) of the 30-day budget is gone within the long window. Page.',
    confirm: [
      QUERY('slo:sli_error:ratio_rate1h'),
      QUERY('slo:error_budget_remaining:ratio'),
      'The `slo` label names the SLO; its SLI alerts (errors, latency) point at the cause.',
    ],
    act: ['Mitigate first (roll back, fail over, shed load), then find the cause.'],
  },
  SloErrorBudgetBurnSlow: {
    meaning:
      'An SLO burns its error budget at least at the sustainable rate over 3 days (and 6 h): it will miss its objective if nothing changes. Ticket, not page.',
    confirm: [QUERY('slo:sli_error:ratio_rate3d'), QUERY('slo:error_budget_remaining:ratio')],
    act: ['Plan reliability work for the SLO; freeze risky changes while the budget is low.'],
  },
};
