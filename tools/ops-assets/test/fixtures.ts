// Series fixtures for `promtool test rules`: for every shipped alert rule, input series on which it
// fires (and the exact alerts expected, labels included) and series near the threshold on which it
// does not. Keyed `<alertname>:<severity>[:<slo>]`. Series are sampled every minute.

export interface Series {
  series: string;
  values: string;
}
export interface AlertCase {
  series: Series[];
  /** When the alert is evaluated, e.g. `20m`. */
  at: string;
  /** Every alert of this alertname expected at `at` (labels without alertname). */
  expect: Array<Record<string, string>>;
}
export interface AlertFixture {
  fires: AlertCase;
  /**
   * Series near the threshold. `expect` lists the alerts of the same name at another severity that
   * do fire there (a critical's quiet case may be a warning's firing one). Absent only for the
   * Watchdog, which fires by design on any data.
   */
  quiet?: Omit<AlertCase, 'expect'> & { expect?: AlertCase['expect'] };
}

const s = (series: string, values: string): Series => ({ series, values });
const w = (labels: Record<string, string> = {}) => ({ ...labels, severity: 'warning' });
const c = (labels: Record<string, string> = {}) => ({ ...labels, severity: 'critical' });
const m = 'gen_ai_request_model="m"';
const gpu = 'gpu="0", UUID="GPU-1", modelName="H100"';
const gpuLabels = { gpu: '0', UUID: 'GPU-1', modelName: 'H100' };
const target = { instance: 'agent:9464', job: 'periscope-demo-agent' };
const tgt = 'instance="agent:9464", job="periscope-demo-agent"';

const histogram = (metric: string, labels: string, low: string, high: string, lowRate: string, highRate: string) => [
  s(`${metric}_bucket{${labels}, le="${low}"}`, `0+${lowRate}x130`),
  s(`${metric}_bucket{${labels}, le="${high}"}`, `0+${highRate}x130`),
  s(`${metric}_bucket{${labels}, le="+Inf"}`, `0+${highRate}x130`),
  s(`${metric}_count{${labels}}`, `0+${highRate}x130`),
];
const counterStep = (values: string) => values; // e.g. '0 0 1 1 1': a step from 0 to 1 at minute 2

export const FIXTURES: Record<string, AlertFixture> = {
  'AgentTaskErrorRatioHigh:warning': {
    fires: {
      series: [
        s('periscope_agent_tasks_total{status="ok"}', '0+10x30'),
        s('periscope_agent_tasks_total{status="error"}', '0+2x30'),
      ],
      at: '20m',
      expect: [w()],
    },
    quiet: {
      series: [
        s('periscope_agent_tasks_total{status="ok"}', '0+10x30'),
        s('periscope_agent_tasks_total{status="error"}', '0+0.4x30'),
      ],
      at: '20m',
    },
  },
  'AgentTaskLatencyHigh:warning': {
    fires: {
      series: histogram('periscope_agent_task_duration_seconds', 'job="a"', '30', '120', '0', '10'),
      at: '20m',
      expect: [w()],
    },
    quiet: {
      series: histogram('periscope_agent_task_duration_seconds', 'job="a"', '30', '120', '9.8', '10'),
      at: '20m',
    },
  },
  'AgentToolErrorRatioHigh:warning': {
    fires: {
      series: [
        s('periscope_agent_tool_errors_total{tool="calculator", error_type="RangeError"}', '0+2x30'),
        s('periscope_agent_tool_calls_total{tool="calculator", status="ok"}', '0+8x30'),
        s('periscope_agent_tool_calls_total{tool="calculator", status="error"}', '0+2x30'),
      ],
      at: '20m',
      expect: [w({ tool: 'calculator' })],
    },
    quiet: {
      series: [
        s('periscope_agent_tool_errors_total{tool="calculator", error_type="RangeError"}', '0+0.5x30'),
        s('periscope_agent_tool_calls_total{tool="calculator", status="ok"}', '0+9.5x30'),
        s('periscope_agent_tool_calls_total{tool="calculator", status="error"}', '0+0.5x30'),
      ],
      at: '20m',
    },
  },
  'GenAiErrorRatioHigh:warning': {
    fires: {
      series: [
        s(`gen_ai_client_operation_duration_seconds_count{${m}, error_type="rate_limit"}`, '0+1x30'),
        s(`gen_ai_client_operation_duration_seconds_count{${m}}`, '0+9x30'),
      ],
      at: '20m',
      expect: [w({ gen_ai_request_model: 'm' })],
    },
    quiet: {
      series: [
        s(`gen_ai_client_operation_duration_seconds_count{${m}, error_type="rate_limit"}`, '0+0.3x30'),
        s(`gen_ai_client_operation_duration_seconds_count{${m}}`, '0+9.7x30'),
      ],
      at: '20m',
    },
  },
  'GenAiErrorRatioHigh:critical': {
    fires: {
      series: [
        s(`gen_ai_client_operation_duration_seconds_count{${m}, error_type="timeout"}`, '0+5x30'),
        s(`gen_ai_client_operation_duration_seconds_count{${m}}`, '0+5x30'),
      ],
      at: '20m',
      expect: [w({ gen_ai_request_model: 'm' }), c({ gen_ai_request_model: 'm' })],
    },
    quiet: {
      series: [
        s(`gen_ai_client_operation_duration_seconds_count{${m}, error_type="timeout"}`, '0+1.5x30'),
        s(`gen_ai_client_operation_duration_seconds_count{${m}}`, '0+8.5x30'),
      ],
      at: '20m',
      expect: [w({ gen_ai_request_model: 'm' })],
    },
  },
  'GenAiLatencyHigh:warning': {
    fires: {
      series: histogram('gen_ai_client_operation_duration_seconds', m, '10.24', '40.96', '0', '10'),
      at: '20m',
      expect: [w({ gen_ai_request_model: 'm' })],
    },
    quiet: {
      series: histogram('gen_ai_client_operation_duration_seconds', m, '10.24', '40.96', '9.8', '10'),
      at: '20m',
    },
  },
  'GenAiTimeToFirstChunkHigh:warning': {
    fires: {
      series: histogram('gen_ai_client_operation_time_to_first_chunk_seconds', m, '2.56', '10.24', '0', '10'),
      at: '20m',
      expect: [w({ gen_ai_request_model: 'm' })],
    },
    quiet: {
      series: histogram('gen_ai_client_operation_time_to_first_chunk_seconds', m, '2.56', '10.24', '9.8', '10'),
      at: '20m',
    },
  },
  'GenAiTokenSpendHigh:warning': {
    fires: {
      series: [s(`gen_ai_client_token_usage_sum{${m}, gen_ai_token_type="input"}`, '0+100000x120')],
      at: '90m',
      expect: [w({ gen_ai_request_model: 'm' })],
    },
    quiet: { series: [s(`gen_ai_client_token_usage_sum{${m}, gen_ai_token_type="input"}`, '0+80000x120')], at: '90m' },
  },
  'CacheErrors:warning': {
    fires: {
      series: [s('periscope_cache_errors_total{cache="c", tier="l2", kind="timeout"}', '0+120x30')],
      at: '10m',
      expect: [w({ cache: 'c', tier: 'l2' })],
    },
    quiet: { series: [s('periscope_cache_errors_total{cache="c", tier="l2", kind="timeout"}', '0+30x30')], at: '10m' },
  },
  'CacheHitRatioDrop:warning': {
    fires: {
      series: [
        s('periscope_cache_hits_total{cache="c", tier="l1"}', '0+90x360 32400+10x60'),
        s('periscope_cache_misses_total{cache="c", tier="l1"}', '0+10x360 3600+90x60'),
      ],
      at: '390m',
      expect: [w({ cache: 'c', tier: 'l1' })],
    },
    quiet: {
      series: [
        s('periscope_cache_hits_total{cache="c", tier="l1"}', '0+90x360 32400+60x60'),
        s('periscope_cache_misses_total{cache="c", tier="l1"}', '0+10x360 3600+40x60'),
      ],
      at: '390m',
    },
  },
  'CacheL2BreakerOpen:warning': {
    fires: { series: [s('periscope_cache_breaker_state{cache="c"}', '2x20')], at: '10m', expect: [w({ cache: 'c' })] },
    quiet: { series: [s('periscope_cache_breaker_state{cache="c"}', '1x20')], at: '10m' },
  },
  'DbPoolAcquireTimeouts:warning': {
    fires: {
      series: [s('periscope_db_pool_acquire_timeouts_total{pool="p"}', counterStep('0 0 0 1 1 1 1 1'))],
      at: '5m',
      expect: [w({ pool: 'p' })],
    },
    quiet: { series: [s('periscope_db_pool_acquire_timeouts_total{pool="p"}', '0x10')], at: '5m' },
  },
  'DbPoolAcquireWaitHigh:warning': {
    fires: {
      series: histogram('periscope_db_pool_acquire_wait_seconds', 'pool="p"', '0.1', '1', '0', '10'),
      at: '20m',
      expect: [w({ pool: 'p' })],
    },
    quiet: {
      series: histogram('periscope_db_pool_acquire_wait_seconds', 'pool="p"', '0.1', '1', '9.8', '10'),
      at: '20m',
    },
  },
  'DbPoolConnectionLeaks:warning': {
    fires: {
      series: [s('periscope_db_pool_leaks_total{pool="p"}', counterStep('0 0 0 1 1 1 1 1'))],
      at: '5m',
      expect: [w({ pool: 'p' })],
    },
    quiet: { series: [s('periscope_db_pool_leaks_total{pool="p"}', '0x10')], at: '5m' },
  },
  'DbPoolSaturated:warning': {
    fires: {
      series: [
        s('periscope_db_pool_connections{pool="p", state="active"}', '10x20'),
        s('periscope_db_pool_connections{pool="p", state="total"}', '10x20'),
        s('periscope_db_pool_connections{pool="p", state="pending"}', '3x20'),
      ],
      at: '10m',
      expect: [w({ pool: 'p' })],
    },
    quiet: {
      series: [
        s('periscope_db_pool_connections{pool="p", state="active"}', '10x20'),
        s('periscope_db_pool_connections{pool="p", state="total"}', '10x20'),
        s('periscope_db_pool_connections{pool="p", state="pending"}', '0x20'),
      ],
      at: '10m',
    },
  },
  'GpuPoolRequestsRejected:warning': {
    fires: {
      series: [s('periscope_gpu_pool_rejected_total{pool="g", reason="timeout"}', counterStep('0 0 1 1 1 1'))],
      at: '4m',
      expect: [w({ pool: 'g' })],
    },
    quiet: { series: [s('periscope_gpu_pool_rejected_total{pool="g", reason="timeout"}', '0x10')], at: '4m' },
  },
  'EventLoopDelayHigh:warning': {
    fires: { series: [s(`nodejs_eventloop_lag_p99_seconds{${tgt}}`, '0.5x20')], at: '10m', expect: [w(target)] },
    quiet: { series: [s(`nodejs_eventloop_lag_p99_seconds{${tgt}}`, '0.15x20')], at: '10m' },
  },
  'ProcessMemoryHigh:warning': {
    fires: { series: [s(`process_resident_memory_bytes{${tgt}}`, '3e9x30')], at: '20m', expect: [w(target)] },
    quiet: { series: [s(`process_resident_memory_bytes{${tgt}}`, '2e9x30')], at: '20m' },
  },
  'GpuMemoryHigh:warning': {
    fires: {
      series: [s(`DCGM_FI_DEV_FB_USED{${gpu}}`, '79000x30'), s(`DCGM_FI_DEV_FB_FREE{${gpu}}`, '1000x30')],
      at: '20m',
      expect: [w(gpuLabels)],
    },
    quiet: {
      series: [s(`DCGM_FI_DEV_FB_USED{${gpu}}`, '75000x30'), s(`DCGM_FI_DEV_FB_FREE{${gpu}}`, '5000x30')],
      at: '20m',
    },
  },
  'GpuTemperatureHigh:warning': {
    fires: { series: [s(`DCGM_FI_DEV_GPU_TEMP{${gpu}}`, '90x20')], at: '10m', expect: [w(gpuLabels)] },
    quiet: { series: [s(`DCGM_FI_DEV_GPU_TEMP{${gpu}}`, '84x20')], at: '10m' },
  },
  'GpuUnhealthy:critical': {
    fires: {
      series: [s('periscope_gpu_pool_device_healthy{pool="g", UUID="GPU-1", source="nvidia-smi"}', '0x10')],
      at: '5m',
      expect: [c({ pool: 'g', UUID: 'GPU-1', source: 'nvidia-smi' })],
    },
    quiet: {
      series: [s('periscope_gpu_pool_device_healthy{pool="g", UUID="GPU-1", source="nvidia-smi"}', '1x10')],
      at: '5m',
    },
  },
  'AlertNotificationsFailing:warning': {
    fires: {
      series: [
        s('periscope_alerting_notifications_total{channel="slack", result="failed"}', counterStep('0 0 1 1 1 1')),
      ],
      at: '4m',
      expect: [w({ channel: 'slack' })],
    },
    quiet: {
      series: [
        s('periscope_alerting_notifications_total{channel="slack", result="failed"}', '0x10'),
        s('periscope_alerting_notifications_total{channel="slack", result="sent"}', '0+1x10'),
      ],
      at: '4m',
    },
  },
  'ScrapeTargetDown:critical': {
    fires: { series: [s(`up{${tgt}}`, '0x10')], at: '5m', expect: [c(target)] },
    quiet: { series: [s(`up{${tgt}}`, '1x10')], at: '5m' },
  },
  'Watchdog:none': {
    fires: { series: [], at: '0m', expect: [{ severity: 'none' }] },
  },
  'SloErrorBudgetBurnFast:critical:agent_task_success': {
    // Every task fails: there is no good series at all, and the ratio must still be 1.
    fires: {
      series: [s('periscope_agent_tasks_total{status="error"}', '0+10x130')],
      at: '70m',
      expect: [c({ slo: 'agent_task_success' })],
    },
    quiet: {
      series: [
        s('periscope_agent_tasks_total{status="ok"}', '0+199x130'),
        s('periscope_agent_tasks_total{status="error"}', '0+1x130'),
      ],
      at: '70m',
    },
  },
  'SloErrorBudgetBurnSlow:warning:agent_task_success': {
    fires: {
      series: [
        s('periscope_agent_tasks_total{status="ok"}', '0+97x130'),
        s('periscope_agent_tasks_total{status="error"}', '0+3x130'),
      ],
      at: '70m',
      expect: [w({ slo: 'agent_task_success' })],
    },
    quiet: {
      series: [
        s('periscope_agent_tasks_total{status="ok"}', '0+199x130'),
        s('periscope_agent_tasks_total{status="error"}', '0+1x130'),
      ],
      at: '70m',
    },
  },
  'SloErrorBudgetBurnFast:critical:llm_latency': {
    fires: {
      series: histogram('gen_ai_client_operation_duration_seconds', m, '10.24', '40.96', '2', '10'),
      at: '70m',
      expect: [c({ slo: 'llm_latency' })],
    },
    quiet: {
      series: histogram('gen_ai_client_operation_duration_seconds', m, '10.24', '40.96', '9.9', '10'),
      at: '70m',
    },
  },
  'SloErrorBudgetBurnSlow:warning:llm_latency': {
    fires: {
      series: histogram('gen_ai_client_operation_duration_seconds', m, '10.24', '40.96', '9', '10'),
      at: '70m',
      expect: [w({ slo: 'llm_latency' })],
    },
    quiet: {
      series: histogram('gen_ai_client_operation_duration_seconds', m, '10.24', '40.96', '9.8', '10'),
      at: '70m',
    },
  },
};
