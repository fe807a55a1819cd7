// The node monitor's configuration: environment variables (and --port/--host flags) read through
// core's ConfigReader, validated at start with one ConfigError naming what is wrong.
import { ConfigError, createConfigReader, nearest, type ConfigReader, type Env } from '@periscope/core';

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
  /** Largest /readyz answer read from an agent. */
  agentMaxBodyBytes: number;
  /** Checks that make /readyz and /health fail (the rest only warn). */
  critical: Set<string>;
  hostIntervalMs: number;
  /** The status page on GET / (PERISCOPE_HEALTH_PAGE, default on). */
  page: boolean;
}

/** Invalid configuration: `invalid <option>: expected <accepted>, got <value>`. */
export class MonitorConfigError extends ConfigError<'ERR_HEALTH_SERVER_CONFIG'> {
  constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
    super(option, accepted, got, { code: 'ERR_HEALTH_SERVER_CONFIG', suggestion });
  }
}

export const USAGE = `Usage: npm run health-server -- [--port <n>] [--host <addr>]

Environment:
  PERISCOPE_HEALTH_SERVER_PORT   port (default 9465)            PERISCOPE_HEALTH_SERVER_HOST  interface (default 127.0.0.1)
  DATABASE_URL                   PostgreSQL to check (default postgres://postgres@127.0.0.1:5432/postgres)
  REDIS_URL                      Redis to check: redis://, rediss://, redis+cluster://h1,h2 (every slot
                                 served) or redis+sentinel://h1,h2/name (default redis://127.0.0.1:6379)
  PERISCOPE_AGENTS               comma-separated agent base URLs whose /readyz is polled
  PERISCOPE_PROBE_TIMEOUT_MS     per-probe timeout (default 2000; 500ms, 2s also accepted)
  PERISCOPE_PROBE_INTERVAL_MS    probe results are reused this long (default 5000)
  PERISCOPE_AGENT_MAX_BODY_BYTES largest agent /readyz answer read (default 65536)
  PERISCOPE_CRITICAL_CHECKS      checks that fail /readyz (comma-separated: postgres, redis, agent-1, …; default none)
  PERISCOPE_HOST_METRICS_INTERVAL_MS  host metrics collection interval (default 15000)
  PERISCOPE_HEALTH_PAGE          the status page on / (default true; loopback-only unless PERISCOPE_DEBUG_TOKEN is set)
  Set DATABASE_URL=off or REDIS_URL=off to skip a check.`;

function reader(env: Env): ConfigReader {
  return createConfigReader({ env, error: (o, a, g, s) => new MonitorConfigError(o, a, g, s) });
}

function parseFlags(argv: string[]): Record<string, string> | 'help' {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return 'help';
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || (m[1] !== 'port' && m[1] !== 'host'))
      throw new MonitorConfigError(
        'arguments',
        '--port <n>, --host <addr> or --help',
        a,
        m ? nearest(m[1], ['port', 'host']) : undefined,
      );
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new MonitorConfigError(`--${m[1]}`, 'a value', undefined);
    flags[m[1]] = v;
  }
  return flags;
}

/** PERISCOPE_AGENTS: comma-separated base URLs; each must be http(s). */
export function parseAgentList(raw: string | undefined): string[] {
  if (!raw) return [];
  const r = createConfigReader({
    env: {},
    error: (_o, a, g, s) => new MonitorConfigError('PERISCOPE_AGENTS', a, g, s),
  });
  const urls = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const u of urls) r.url('agents', u, { default: undefined, protocols: ['http:', 'https:'] });
  return urls;
}

function criticalChecks(r: ConfigReader, agents: string[]): Set<string> {
  const known = ['postgres', 'redis', ...agents.map((_, i) => `agent-${i + 1}`)];
  const list = r.list('critical', undefined, { env: 'PERISCOPE_CRITICAL_CHECKS', default: [] });
  for (const c of list)
    if (!known.includes(c))
      throw new MonitorConfigError('PERISCOPE_CRITICAL_CHECKS', `a list of ${known.join(', ')}`, c, nearest(c, known));
  return new Set(list);
}

export function parseMonitorConfig(argv: string[], env: Env = process.env): MonitorConfig | 'help' {
  const flags = parseFlags(argv);
  if (flags === 'help') return 'help';
  const r = reader(env);
  const off = (v: string) => v === 'off' || v === 'none';
  const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const agents = parseAgentList(env.PERISCOPE_AGENTS);
  const port = flags.port === undefined ? undefined : Number(flags.port);
  if (flags.port !== undefined && !/^\d+$/.test(flags.port))
    throw new MonitorConfigError('--port', 'an integer in [0, 65535]', flags.port);
  return {
    port: r.integer('--port', port, { env: 'PERISCOPE_HEALTH_SERVER_PORT', default: 9465, min: 0, max: 65535 }),
    host: r.string('--host', flags.host, { env: 'PERISCOPE_HEALTH_SERVER_HOST', default: '127.0.0.1' }),
    databaseUrl: off(databaseUrl) ? undefined : databaseUrl,
    redisUrl: off(redisUrl) ? undefined : redisUrl,
    agents,
    probeTimeoutMs: r.duration('probeTimeoutMs', undefined, {
      env: 'PERISCOPE_PROBE_TIMEOUT_MS',
      default: 2000,
      min: 1,
      max: 60_000,
    }),
    probeIntervalMs: r.duration('probeIntervalMs', undefined, {
      env: 'PERISCOPE_PROBE_INTERVAL_MS',
      default: 5000,
      min: 0,
      max: 3_600_000,
    }),
    agentMaxBodyBytes: r.integer('agentMaxBodyBytes', undefined, {
      env: 'PERISCOPE_AGENT_MAX_BODY_BYTES',
      default: 64 * 1024,
      min: 1024,
      max: 64 * 1024 * 1024,
    }),
    critical: criticalChecks(r, agents),
    hostIntervalMs: r.duration('hostIntervalMs', undefined, {
      env: 'PERISCOPE_HOST_METRICS_INTERVAL_MS',
      default: 15000,
      min: 1000,
      max: 3_600_000,
    }),
    page: r.boolean('page', undefined, { env: 'PERISCOPE_HEALTH_PAGE', default: true }),
  };
}
