// The agent's own metrics (GenAI call metrics come from @periscope/metrics' recordLlmCall).
import { Buckets, type Metrics } from '@periscope/metrics';
import type { BreakerState } from './llm/resilience';

const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half_open'];

export function createAgentMetrics(metrics: Metrics) {
  const breaker = metrics.gauge({
    name: 'periscope_agent_llm_circuit_state',
    help: '1 for the current state of the provider circuit breaker (closed, open, half_open), 0 for the others',
    labelNames: ['provider', 'state'] as const,
  });
  return {
    metrics,
    tasks: metrics.counter({
      name: 'periscope_agent_tasks_total',
      help: 'Agent tasks finished, by outcome',
      labelNames: ['status'] as const,
    }),
    taskDuration: metrics.histogram({
      name: 'periscope_agent_task_duration_seconds',
      help: 'Agent task duration',
      labelNames: ['status'] as const,
      buckets: Buckets.llmLatency,
    }),
    inFlight: metrics.gauge({ name: 'periscope_agent_tasks_in_flight', help: 'Agent tasks running now' }),
    iterations: metrics.histogram({
      name: 'periscope_agent_iterations',
      help: 'Model round trips per agent task',
      buckets: [1, 2, 3, 4, 5, 8],
    }),
    toolCalls: metrics.counter({
      name: 'periscope_agent_tool_calls_total',
      help: 'Tool calls, by tool and outcome',
      labelNames: ['tool', 'status'] as const,
    }),
    toolErrors: metrics.counter({
      name: 'periscope_agent_tool_errors_total',
      help: 'Tool calls that failed, by tool and error type',
      labelNames: ['tool', 'error_type'] as const,
    }),
    toolDuration: metrics.histogram({
      name: 'periscope_agent_tool_duration_seconds',
      help: 'Tool call duration, by tool',
      labelNames: ['tool'] as const,
      buckets: Buckets.latency,
    }),
    cost: metrics.counter({
      name: 'periscope_agent_llm_cost_usd_total',
      help: 'Simulated LLM cost in USD, by model (price table in pricing.ts)',
      labelNames: ['model'] as const,
    }),
    retries: metrics.counter({
      name: 'periscope_agent_llm_retries_total',
      help: 'Provider attempts that failed transiently and were retried, by provider and error type',
      labelNames: ['provider', 'error_type'] as const,
    }),
    breakerRejections: metrics.counter({
      name: 'periscope_agent_llm_circuit_rejections_total',
      help: 'Model calls not sent because the provider circuit breaker was open',
      labelNames: ['provider'] as const,
    }),
    breakerState(provider: string, state: BreakerState): void {
      for (const s of BREAKER_STATES) breaker.set({ provider, state: s }, s === state ? 1 : 0);
    },
  };
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
