// The node monitor's configuration: environment variables (and --port/--host flags), validated
// at start with one message naming what is wrong.
import { parseAgentList } from './probes';

export interface MonitorConfig {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  agents: string[];
  /** Timeout of each dependency probe. */
  probeTimeoutMs: number;
  /** Probes are cached this long, so a probe storm cannot hammer the dependencies. */
  probeIntervalMs: number;
  /** Checks that make /readyz and /health fail (the rest only warn). */
  critical: Set<string>;
  hostIntervalMs: number;
}

export class MonitorConfigError extends Error {
  readonly code = 'MONITOR_CONFIG_ERROR';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
    this.name = 'MonitorConfigError';
  }
}

function int(option: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max)
    throw new MonitorConfigError(option, `expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

export const USAGE = `Usage: npm run health-server -- [--port <n>] [--host <addr>]

Environment:
  PERISCOPE_HEALTH_SERVER_PORT   port (default 9465)            PERISCOPE_HEALTH_SERVER_HOST  interface (default 127.0.0.1)
  DATABASE_URL                   PostgreSQL to check (default postgres://postgres@127.0.0.1:5432/postgres)
  REDIS_URL                      Redis to check (default redis://127.0.0.1:6379)
  PERISCOPE_AGENTS               comma-separated agent base URLs whose /readyz is polled
  PERISCOPE_PROBE_TIMEOUT_MS     per-probe timeout (default 2000)
  PERISCOPE_PROBE_INTERVAL_MS    probe results are reused this long (default 5000)
  PERISCOPE_CRITICAL_CHECKS      checks that fail /readyz (comma-separated: postgres, redis, agent-1, …; default none)
  PERISCOPE_HOST_METRICS_INTERVAL_MS  host metrics collection interval (default 15000)
  Set DATABASE_URL=off or REDIS_URL=off to skip a check.`;

export function parseMonitorConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): MonitorConfig | 'help' {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return 'help';
    const m = /^--(port|host)(?:=(.*))?$/.exec(a);
    if (!m) throw new MonitorConfigError('arguments', `unknown argument ${JSON.stringify(a)}`);
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new MonitorConfigError(`--${m[1]}`, 'needs a value');
    flags[m[1]] = v;
  }
  const off = (v: string | undefined) => v === 'off' || v === 'none';
  const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const agents = parseAgentList(env.PERISCOPE_AGENTS);
  const critical = new Set(
    (env.PERISCOPE_CRITICAL_CHECKS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const known = new Set(['postgres', 'redis', ...agents.map((_, i) => `agent-${i + 1}`)]);
  for (const c of critical)
    if (!known.has(c))
      throw new MonitorConfigError(
        'PERISCOPE_CRITICAL_CHECKS',
        `unknown check ${JSON.stringify(c)}; known: ${[...known].join(', ')}`,
      );
  return {
    port: int(
      flags.port ? '--port' : 'PERISCOPE_HEALTH_SERVER_PORT',
      flags.port ?? env.PERISCOPE_HEALTH_SERVER_PORT,
      9465,
      0,
      65535,
    ),
    host: flags.host ?? env.PERISCOPE_HEALTH_SERVER_HOST ?? '127.0.0.1',
    databaseUrl: off(databaseUrl) ? undefined : databaseUrl,
    redisUrl: off(redisUrl) ? undefined : redisUrl,
    agents,
    probeTimeoutMs: int('PERISCOPE_PROBE_TIMEOUT_MS', env.PERISCOPE_PROBE_TIMEOUT_MS, 2000, 1, 60000),
    probeIntervalMs: int('PERISCOPE_PROBE_INTERVAL_MS', env.PERISCOPE_PROBE_INTERVAL_MS, 5000, 0, 3600000),
    critical,
    hostIntervalMs: int(
      'PERISCOPE_HOST_METRICS_INTERVAL_MS',
      env.PERISCOPE_HOST_METRICS_INTERVAL_MS,
      15000,
      1000,
      3600000,
    ),
  };
}
