// Options, their defaults, and the env vars that override the defaults, all read through core's
// ConfigReader. Precedence: an option passed in code wins, then the env var, then the default (the
// same rule as the OpenTelemetry SDK). Durations in the environment accept 500, 250ms, 2s, 1m.
import { createConfigReader, NOOP_LOGGER, type ConfigReader, type Env, type Logger } from '@periscope/core';
import type { Metrics } from '@periscope/metrics';
import { HealthConfigError } from './errors';
import { isProfileSource, type ProfileSource } from './page/profile';
import { isSeriesOptions, type SeriesOptions } from './page/series';
import { isTraceSource, type TraceSource } from './page/traces';

/**
 * Used when handleSignals is on and no logger is given: a process that exits on a signal has no
 * other place to say that a hook failed. Warnings and errors only, one JSON line each.
 */
export const STDERR_LOGGER: Logger = {
  debug() {},
  info() {},
  warn(message, fields) {
    process.stderr.write(`${JSON.stringify({ level: 'warn', msg: `@periscope/health: ${message}`, ...fields })}\n`);
  },
  error(message, fields) {
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: `@periscope/health: ${message}`, ...fields })}\n`);
  },
};

export interface HealthServerOptions {
  /** TCP port; 0 picks a free one. @default 8080, env PERISCOPE_HEALTH_PORT */
  port?: number;
  /** Interface to bind ('0.0.0.0' in containers). @default '127.0.0.1', env PERISCOPE_HEALTH_HOST */
  host?: string;
  /** Registry served on /metrics and used for the server's own metrics. @default a private one; `false` turns /metrics and instrumentation off */
  metrics?: Metrics | false;
  /** Service version in /health and /status. @default `service.version` from OTEL_RESOURCE_ATTRIBUTES, else 'unknown' */
  version?: string;
  /** Service id in /health and /status. @default env OTEL_SERVICE_NAME, else 'unknown_service:node' */
  serviceId?: string;
  /** Wait after readiness turns false before closing the listener, so load balancers notice. @default 5000, env PERISCOPE_HEALTH_DRAIN_DELAY_MS */
  drainDelayMs?: number;
  /** Longest wait for in-flight requests once the listener is closed. @default 10000, env PERISCOPE_HEALTH_SHUTDOWN_TIMEOUT_MS */
  shutdownTimeoutMs?: number;
  /** Default timeout of each onShutdown hook. @default 5000, env PERISCOPE_HEALTH_HOOK_TIMEOUT_MS */
  hookTimeoutMs?: number;
  /** Timeout of each /status provider. @default 1000, env PERISCOPE_HEALTH_STATUS_TIMEOUT_MS */
  statusTimeoutMs?: number;
  /** A request's headers must arrive within this long of its first byte (else 408 and close). @default 10000, env PERISCOPE_HEALTH_HEADERS_TIMEOUT_MS */
  headersTimeoutMs?: number;
  /** A whole request (headers and body) must arrive within this long. @default 30000, env PERISCOPE_HEALTH_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this long between requests. @default 5000, env PERISCOPE_HEALTH_KEEP_ALIVE_TIMEOUT_MS */
  keepAliveTimeoutMs?: number;
  /** A new connection that sends nothing for this long is closed. @default 10000, env PERISCOPE_HEALTH_IDLE_TIMEOUT_MS */
  idleTimeoutMs?: number;
  /** Open connections beyond this are closed at once on accept (counted). @default 512, env PERISCOPE_HEALTH_MAX_CONNECTIONS */
  maxConnections?: number;
  /** Drain and exit 0 on SIGTERM/SIGINT; a second signal forces exit. @default false, env PERISCOPE_HEALTH_HANDLE_SIGNALS */
  handleSignals?: boolean;
  /** Bearer token required by routes under /debug/; without one those routes answer 403. Env PERISCOPE_DEBUG_TOKEN. */
  debugToken?: string;
  /** Deep copy with secrets replaced; applied to /status, /health and check output. @default core's `redact` */
  redact?: (value: unknown) => unknown;
  /** Where lifecycle events and hook failures are reported. @default NOOP_LOGGER, or warnings and errors to stderr with handleSignals */
  logger?: Logger;
  /** Read instead of process.env. */
  env?: Env;
  /** Serve the status page on GET / (and /status/traces, /status/series, /status/profile). @default false, env PERISCOPE_HEALTH_PAGE */
  page?: boolean;
  /** Where the status page reads traces: a TraceStore from @periscope/tracing (`tracing.store`) or anything with recentTraces/getTrace. */
  traces?: TraceSource;
  /** Sparklines on the status page: a metrics `History` and the tracked metric names to draw. */
  series?: SeriesOptions;
  /** The status page's flame graph (GET /status/profile): a ContinuousProfiler from @periscope/profiling, or anything with latest(). */
  profiles?: ProfileSource;
}

const KNOWN_OPTIONS: readonly (keyof HealthServerOptions)[] = [
  'port',
  'host',
  'metrics',
  'version',
  'serviceId',
  'drainDelayMs',
  'shutdownTimeoutMs',
  'hookTimeoutMs',
  'statusTimeoutMs',
  'headersTimeoutMs',
  'requestTimeoutMs',
  'keepAliveTimeoutMs',
  'idleTimeoutMs',
  'maxConnections',
  'handleSignals',
  'debugToken',
  'redact',
  'logger',
  'env',
  'page',
  'traces',
  'series',
  'profiles',
];

export interface ResolvedConfig {
  port: number;
  host: string;
  version: string;
  serviceId: string;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  hookTimeoutMs: number;
  statusTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  handleSignals: boolean;
  debugToken: string | undefined;
  page: boolean;
}

export const DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  drainDelayMs: 5000,
  shutdownTimeoutMs: 10000,
  hookTimeoutMs: 5000,
  statusTimeoutMs: 1000,
  headersTimeoutMs: 10000,
  requestTimeoutMs: 30000,
  keepAliveTimeoutMs: 5000,
  idleTimeoutMs: 10000,
  maxConnections: 512,
  handleSignals: false,
} as const;

const HOUR = 3_600_000;

function reader(env?: Env): ConfigReader {
  return createConfigReader({ env, error: (o, a, g, s) => new HealthConfigError(o, a, g, s) });
}

/** `service.version` from OTEL_RESOURCE_ATTRIBUTES (`key=value,key=value`, values percent-encoded). */
function resourceAttribute(text: string | undefined, key: string): string | undefined {
  for (const pair of (text ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i > 0 && pair.slice(0, i).trim() === key) {
      try {
        return decodeURIComponent(pair.slice(i + 1).trim()) || undefined;
      } catch {
        return pair.slice(i + 1).trim() || undefined;
      }
    }
  }
  return undefined;
}

function checkShapes(r: ConfigReader, options: HealthServerOptions): void {
  if (options === null || typeof options !== 'object') r.fail('options', 'an options object', options);
  r.rejectUnknown(options, KNOWN_OPTIONS, 'HealthServerOptions');
  if (options.redact !== undefined && typeof options.redact !== 'function')
    r.fail('redact', 'a function (value: unknown) => unknown', options.redact);
  const m = options.metrics;
  if (m !== undefined && m !== false && (typeof m !== 'object' || m === null || typeof m.expose !== 'function'))
    r.fail('metrics', 'a Metrics instance from @periscope/metrics, or false', m);
  const l = options.logger;
  if (l !== undefined && (typeof l !== 'object' || l === null || typeof l.error !== 'function'))
    r.fail('logger', 'a Logger (debug, info, warn, error)', l);
  if (options.traces !== undefined && !isTraceSource(options.traces))
    r.fail('traces', 'a trace store with recentTraces() and getTrace() (e.g. tracing.store)', options.traces);
  if (options.series !== undefined && !isSeriesOptions(options.series))
    r.fail('series', '{ history: a metrics History, names: string[] }', options.series);
  if (options.profiles !== undefined && !isProfileSource(options.profiles))
    r.fail('profiles', 'a profile source with latest() (e.g. a ContinuousProfiler)', options.profiles);
}

export function resolveConfig(options: HealthServerOptions): ResolvedConfig {
  const r = reader(options?.env);
  checkShapes(r, options);
  const o = options;
  const ms = (name: keyof typeof DEFAULTS & keyof HealthServerOptions, env: string, min: number, max = HOUR) =>
    r.duration(name, o[name] as number | undefined, { env, default: DEFAULTS[name] as number, min, max });
  return {
    port: r.integer('port', o.port, { env: 'PERISCOPE_HEALTH_PORT', default: DEFAULTS.port, min: 0, max: 65535 }),
    host: r.string('host', o.host, { env: 'PERISCOPE_HEALTH_HOST', default: DEFAULTS.host }),
    version:
      r.string('version', o.version, { default: undefined }) ??
      resourceAttribute(r.raw('OTEL_RESOURCE_ATTRIBUTES'), 'service.version') ??
      'unknown',
    serviceId: r.string('serviceId', o.serviceId, { env: 'OTEL_SERVICE_NAME', default: 'unknown_service:node' }),
    drainDelayMs: ms('drainDelayMs', 'PERISCOPE_HEALTH_DRAIN_DELAY_MS', 0),
    shutdownTimeoutMs: ms('shutdownTimeoutMs', 'PERISCOPE_HEALTH_SHUTDOWN_TIMEOUT_MS', 0),
    hookTimeoutMs: ms('hookTimeoutMs', 'PERISCOPE_HEALTH_HOOK_TIMEOUT_MS', 1),
    statusTimeoutMs: ms('statusTimeoutMs', 'PERISCOPE_HEALTH_STATUS_TIMEOUT_MS', 1, 600_000),
    headersTimeoutMs: ms('headersTimeoutMs', 'PERISCOPE_HEALTH_HEADERS_TIMEOUT_MS', 100),
    requestTimeoutMs: ms('requestTimeoutMs', 'PERISCOPE_HEALTH_REQUEST_TIMEOUT_MS', 100),
    keepAliveTimeoutMs: ms('keepAliveTimeoutMs', 'PERISCOPE_HEALTH_KEEP_ALIVE_TIMEOUT_MS', 1),
    idleTimeoutMs: ms('idleTimeoutMs', 'PERISCOPE_HEALTH_IDLE_TIMEOUT_MS', 100),
    maxConnections: r.integer('maxConnections', o.maxConnections, {
      env: 'PERISCOPE_HEALTH_MAX_CONNECTIONS',
      default: DEFAULTS.maxConnections,
      min: 1,
      max: 1_000_000,
    }),
    handleSignals: r.boolean('handleSignals', o.handleSignals, {
      env: 'PERISCOPE_HEALTH_HANDLE_SIGNALS',
      default: DEFAULTS.handleSignals,
    }),
    debugToken: r.string('debugToken', o.debugToken, { env: 'PERISCOPE_DEBUG_TOKEN', default: undefined }),
    page: r.boolean('page', o.page, { env: 'PERISCOPE_HEALTH_PAGE', default: false }),
  };
}

/** The logger the server uses: the given one, else stderr warnings with handleSignals, else none. */
export function resolveLogger(options: HealthServerOptions, config: ResolvedConfig): Logger {
  return options.logger ?? (config.handleSignals ? STDERR_LOGGER : NOOP_LOGGER);
}

/** Names of checks, status providers and hooks: they appear in URLs (/readyz/<name>) and metric labels. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const NAME_ACCEPTED = "1-64 letters, digits, '_', '.', '-' (starting with a letter or digit)";

export function validateName(option: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) throw new HealthConfigError(option, NAME_ACCEPTED, name);
  return name;
}

export function validateMs(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > HOUR)
    throw new HealthConfigError(option, `an integer number of milliseconds in [${min}, ${HOUR}]`, value);
  return value;
}
