// The demo's command line: flags, their env vars and defaults. Invalid input is reported with the
// usage text and exit code 2, as CLI conventions expect. Booleans take the house syntax (core's
// parseBoolean: true/false, 1/0, yes/no, on/off).
import os from 'node:os';
import path from 'node:path';
import { parseBoolean, PeriscopeError } from '@periscope/core';
import { CacheConfigError, parseRedisUrl } from '@periscope/cache';

export interface DemoConfig {
  tasks: number;
  concurrency: number;
  seed: number;
  port: number;
  host: string;
  provider: 'sim' | 'openai';
  exit: boolean;
  errorRate: number;
  latencyScale: number;
  /** POST /tasks admission control: tasks run at once. */
  maxConcurrentTasks: number;
  /** POST /tasks admission control: tasks waiting for a slot; beyond it 429. */
  maxQueuedTasks: number;
  /** Alertmanager base URL the alerts are pushed to ('' = none). */
  alertmanager: string;
  /** Where the batch writes profile.pb.gz and flame.html. */
  outDir: string;
  /** Redis of the LLM and embedding caches, in @periscope/cache's forms ('' = none: L1 + L3 only). */
  redisUrl: string;
  /** Base URL of a peer agent that the `delegate` tool hands sub-tasks to ('' = no such tool). */
  peerUrl: string;
}

/** The default --out-dir: a private per-user directory in the temp dir. */
export function defaultOutDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username;
  return path.join(os.tmpdir(), `periscope-demo-${uid}`);
}

export class UsageError extends PeriscopeError<'ERR_DEMO_USAGE'> {
  constructor(message: string) {
    super('ERR_DEMO_USAGE', message);
  }
}

interface FlagSpec {
  env: string;
  /** Read when `env` is unset (another name the same setting is known by). */
  alsoEnv?: string;
  default: string;
  help: string;
  parse: (raw: string, flag: string) => unknown;
  boolean?: boolean;
}

function integer(min: number, max: number) {
  return (raw: string, flag: string) => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max)
      throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return n;
  };
}
function number(min: number, max: number) {
  return (raw: string, flag: string) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new UsageError(`${flag} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return n;
  };
}
function httpUrl(example: string) {
  return (raw: string, flag: string) => {
    if (raw === 'off') return '';
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new UsageError(`${flag} must be an http(s) URL like ${example}, got ${JSON.stringify(raw)}`);
    return raw;
  };
}
/** The cache's own parser: the demo accepts exactly what @periscope/cache accepts, nothing else. */
function redisUrl(raw: string, flag: string) {
  if (raw === 'off') return '';
  try {
    parseRedisUrl(raw, flag);
  } catch (err) {
    if (err instanceof CacheConfigError) throw new UsageError(err.message);
    throw err;
  }
  return raw;
}
function boolean(raw: string, flag: string) {
  const value = parseBoolean(raw);
  if (value === undefined) throw new UsageError(`${flag} must be true or false, got ${JSON.stringify(raw)}`);
  return value;
}

const FLAGS: Record<string, FlagSpec> = {
  tasks: {
    env: 'PERISCOPE_DEMO_TASKS',
    default: '50',
    help: 'tasks in the batch (0 serves only)',
    parse: integer(0, 100000),
  },
  concurrency: { env: 'PERISCOPE_DEMO_CONCURRENCY', default: '4', help: 'tasks run at once', parse: integer(1, 256) },
  seed: {
    env: 'PERISCOPE_DEMO_SEED',
    default: 'random',
    help: 'seed of the task generator and the simulated LLM (printed, to replay a run)',
    // A fresh seed per run by default: a repeated run would otherwise be answered from the LLM cache.
    parse: (raw, flag) => (raw === 'random' ? Math.floor(Math.random() * 2 ** 31) : integer(0, 2 ** 31 - 1)(raw, flag)),
  },
  port: {
    env: 'PERISCOPE_DEMO_PORT',
    default: '9464',
    help: 'HTTP port of the endpoints (0 = any free port)',
    parse: integer(0, 65535),
  },
  host: {
    env: 'PERISCOPE_DEMO_HOST',
    default: '127.0.0.1',
    help: 'interface to bind (0.0.0.0 in containers)',
    parse: (raw) => raw,
  },
  provider: {
    env: 'PERISCOPE_DEMO_PROVIDER',
    default: 'sim',
    help: 'sim (simulated LLM) or openai (OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL)',
    parse: (raw, flag) => {
      if (raw !== 'sim' && raw !== 'openai')
        throw new UsageError(`${flag} must be sim or openai, got ${JSON.stringify(raw)}`);
      return raw;
    },
  },
  exit: {
    env: 'PERISCOPE_DEMO_EXIT',
    default: 'false',
    help: 'exit after the summary instead of serving',
    parse: boolean,
    boolean: true,
  },
  'error-rate': {
    env: 'PERISCOPE_DEMO_ERROR_RATE',
    default: '0.02',
    help: 'simulated LLM error probability',
    parse: number(0, 1),
  },
  'max-concurrent-tasks': {
    env: 'PERISCOPE_DEMO_MAX_CONCURRENT_TASKS',
    default: '8',
    help: 'POST /tasks run at once',
    parse: integer(1, 1024),
  },
  'max-queued-tasks': {
    env: 'PERISCOPE_DEMO_MAX_QUEUED_TASKS',
    default: '32',
    help: 'POST /tasks waiting for a slot (beyond: 429)',
    parse: integer(0, 100000),
  },
  alertmanager: {
    env: 'PERISCOPE_ALERTMANAGER_URL',
    default: 'off',
    help: 'Alertmanager base URL the alerts are pushed to (API v2)',
    parse: httpUrl('http://127.0.0.1:9093'),
  },
  'redis-url': {
    env: 'REDIS_URL',
    alsoEnv: 'PERISCOPE_CACHE_L2_URL',
    default: 'redis://127.0.0.1:6379',
    help: 'Redis of the caches: redis[s]://host:port, redis[s]+cluster://h1:p1,h2:p2, redis[s]+sentinel://h1:p1,h2:p2/mymaster, or off',
    parse: redisUrl,
  },
  'peer-url': {
    env: 'PERISCOPE_DEMO_PEER_URL',
    default: 'off',
    help: 'base URL of a peer agent the delegate tool hands sub-tasks to',
    parse: httpUrl('http://127.0.0.1:9466'),
  },
  'out-dir': {
    env: 'PERISCOPE_DEMO_OUT_DIR',
    default: '$TMPDIR/periscope-demo-<uid>',
    help: 'where the batch writes profile.pb.gz and flame.html',
    parse: (raw) => (raw === '$TMPDIR/periscope-demo-<uid>' ? defaultOutDir() : path.resolve(raw)),
  },
  'latency-scale': {
    env: 'PERISCOPE_DEMO_LATENCY_SCALE',
    default: '1',
    help: 'multiplies simulated LLM latency',
    parse: number(0, 100),
  },
};

export function usage(): string {
  const lines = [
    'Usage: npm run demo -- [flags]',
    '',
    'Runs a batch of agent tasks, prints a summary, and serves the endpoints until Ctrl-C.',
    '',
    'Flags (each also an environment variable):',
  ];
  for (const [name, spec] of Object.entries(FLAGS)) {
    lines.push(
      `  --${name}${spec.boolean ? '' : ' <value>'}`.padEnd(28) +
        `${spec.help} (default ${spec.default}; ${spec.env}${spec.alsoEnv ? ` or ${spec.alsoEnv}` : ''})`,
    );
  }
  lines.push('  --help'.padEnd(28) + 'show this text');
  return lines.join('\n');
}

/** Parses argv and env; returns 'help' for --help; throws UsageError for anything invalid. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): DemoConfig | 'help' {
  const raw: Record<string, { value: string; from: string }> = {};
  for (const [name, spec] of Object.entries(FLAGS)) {
    // The primary variable wins over the other name (read first, so overwritten).
    for (const variable of [spec.alsoEnv, spec.env]) {
      const value = variable === undefined ? undefined : env[variable];
      if (value !== undefined && value !== '') raw[name] = { value, from: variable! };
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !FLAGS[m[1]]) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    const spec = FLAGS[m[1]];
    let value = m[2];
    if (value === undefined) {
      if (spec.boolean) value = 'true';
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
      else throw new UsageError(`--${m[1]} needs a value`);
    }
    raw[m[1]] = { value, from: `--${m[1]}` };
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(FLAGS)) {
    const r = raw[name] ?? { value: spec.default, from: `--${name}` };
    out[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = spec.parse(r.value, r.from);
  }
  return out as unknown as DemoConfig;
}
