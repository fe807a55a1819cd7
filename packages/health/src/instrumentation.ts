// The server's own metrics. With `metrics: false` every method is a no-op, so call sites never branch.
import { Buckets, type Metrics } from '@periscope/metrics';
import type { CheckStatus } from './checks';

export type LifecycleState = 'starting' | 'ready' | 'draining' | 'stopped';
const STATES: readonly LifecycleState[] = ['starting', 'ready', 'draining', 'stopped'];
const STATUSES: readonly CheckStatus[] = ['pass', 'warn', 'fail'];

export interface Instruments {
  checkRun(check: string, status: CheckStatus, seconds: number): void;
  request(route: string, code: number): void;
  state(state: LifecycleState): void;
  hookFailure(hook: string): void;
  /** A connection closed on accept because maxConnections were open. */
  connectionDropped(): void;
  /** A connection closed because it sent nothing within idleTimeoutMs. */
  connectionIdleClosed(): void;
}

const NOOP: Instruments = {
  checkRun() {},
  request() {},
  state() {},
  hookFailure() {},
  connectionDropped() {},
  connectionIdleClosed() {},
};

export function createInstruments(metrics: Metrics | undefined): Instruments {
  if (!metrics) return NOOP;
  const runs = metrics.counter({
    name: 'periscope_health_check_runs_total',
    help: 'Health check executions (cached answers not counted), by result',
    labelNames: ['check', 'status'] as const,
  });
  const duration = metrics.histogram({
    name: 'periscope_health_check_duration_seconds',
    help: 'Health check execution time',
    labelNames: ['check'] as const,
    buckets: Buckets.latency,
  });
  const current = metrics.gauge({
    name: 'periscope_health_check_status',
    help: '1 for the current status of each check, 0 for the others',
    labelNames: ['check', 'status'] as const,
  });
  const requests = metrics.counter({
    name: 'periscope_health_http_requests_total',
    help: 'Requests answered by the health server, by route template and status code',
    labelNames: ['route', 'code'] as const,
  });
  const state = metrics.gauge({
    name: 'periscope_health_state',
    help: '1 for the current lifecycle state, 0 for the others',
    labelNames: ['state'] as const,
  });
  const hookFailures = metrics.counter({
    name: 'periscope_health_shutdown_hook_failures_total',
    help: 'onShutdown hooks that threw or timed out',
    labelNames: ['hook'] as const,
  });
  const closed = metrics.counter({
    name: 'periscope_health_connections_closed_total',
    help: 'Connections the server closed to protect itself: over maxConnections, or silent past idleTimeoutMs',
    labelNames: ['reason'] as const,
  });
  const dropped = closed.labels({ reason: 'max_connections' });
  const idle = closed.labels({ reason: 'idle' });
  // Bound handles per (route, code): the probe path must stay close to a bare server's speed.
  const requestHandles = new Map<string, { inc(v?: number): void }>();
  return {
    checkRun(check, status, seconds) {
      runs.inc({ check, status });
      duration.observe({ check }, seconds);
      for (const s of STATUSES) current.set({ check, status: s }, s === status ? 1 : 0);
    },
    request(route, code) {
      const key = `${code} ${route}`;
      let h = requestHandles.get(key);
      if (!h) {
        h = requests.labels({ route, code });
        requestHandles.set(key, h);
      }
      h.inc();
    },
    state(s) {
      for (const name of STATES) state.set({ state: name }, name === s ? 1 : 0);
    },
    hookFailure(hook) {
      hookFailures.inc({ hook });
    },
    connectionDropped() {
      dropped.inc();
    },
    connectionIdleClosed() {
      idle.inc();
    },
  };
}
