// Options, their defaults, and the env vars that override the defaults. Precedence: an option
// passed in code wins, then the env var, then the default (the same rule as the OpenTelemetry SDK).
import type { Metrics } from '@periscope/metrics';
import { HealthConfigError } from './errors';

/** The few logger methods the server uses; a winston or @periscope/logging logger fits. */
export interface HealthLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Used when handleSignals is on and no logger is given: a process that exits on a signal has no
 * other place to say that a hook failed. Warnings and errors only, one JSON line each.
 */
export const STDERR_LOGGER: HealthLogger = {
  info() {},
  warn(message, fields) {
    process.stderr.write(`${JSON.stringify({ level: 'warn', msg: `@periscope/health: ${message}`, ...fields })}\n`);
  },
  error(message, fields) {
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: `@periscope/health: ${message}`, ...fields })}\n`);
  },
};

export interface HealthServerOptions {
  /** TCP port; 0 picks a free one. Default 8080, env PERISCOPE_HEALTH_PORT. */
  port?: number;
  /** Interface to bind. Default '127.0.0.1' (use '0.0.0.0' in containers), env PERISCOPE_HEALTH_HOST. */
  host?: string;
  /** Registry served on /metrics and used for the server's own metrics. Default: a private one; `false` turns /metrics and instrumentation off. */
  metrics?: Metrics | false;
  /** Service version in /health and /status. Default: `service.version` from OTEL_RESOURCE_ATTRIBUTES, else 'unknown'. */
  version?: string;
  /** Service id in /health and /status. Default: env OTEL_SERVICE_NAME, else 'unknown_service:node'. */
  serviceId?: string;
  /** Wait after readiness turns false before closing the listener, so load balancers notice. Default 5000, env PERISCOPE_HEALTH_DRAIN_DELAY_MS. */
  drainDelayMs?: number;
  /** Longest wait for in-flight requests once the listener is closed. Default 10000, env PERISCOPE_HEALTH_SHUTDOWN_TIMEOUT_MS. */
  shutdownTimeoutMs?: number;
  /** Default timeout of each onShutdown hook. Default 5000, env PERISCOPE_HEALTH_HOOK_TIMEOUT_MS. */
  hookTimeoutMs?: number;
  /** Timeout of each /status provider. Default 1000, env PERISCOPE_HEALTH_STATUS_TIMEOUT_MS. */
  statusTimeoutMs?: number;
  /** Drain and exit 0 on SIGTERM/SIGINT; a second signal forces exit. Default false, env PERISCOPE_HEALTH_HANDLE_SIGNALS. */
  handleSignals?: boolean;
  /** Bearer token required by routes under /debug/; without one those routes answer 403. Env PERISCOPE_DEBUG_TOKEN. */
  debugToken?: string;
  /** Deep copy with secrets replaced; applied to /status, /health and check output. */
  redact?: (value: unknown) => unknown;
  /** Where lifecycle events and hook failures are reported. Default: nothing, or warnings and errors to stderr with handleSignals. */
  logger?: HealthLogger;
}

export interface ResolvedConfig {
  port: number;
  host: string;
  version: string;
  serviceId: string;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  hookTimeoutMs: number;
  statusTimeoutMs: number;
  handleSignals: boolean;
  debugToken: string | undefined;
}

export const DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  drainDelayMs: 5000,
  shutdownTimeoutMs: 10000,
  hookTimeoutMs: 5000,
  statusTimeoutMs: 1000,
  handleSignals: false,
} as const;

type Env = Record<string, string | undefined>;

function validateInt(option: string, value: unknown, min: number, max: number, unit = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new HealthConfigError(
      option,
      `expected an integer${unit} from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function intOption(
  name: string,
  envName: string,
  value: number | undefined,
  env: Env,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value !== undefined) return validateInt(name, value, min, max);
  const raw = env[envName];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim()))
    throw new HealthConfigError(envName, `expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return validateInt(envName, Number(raw), min, max);
}

function boolOption(name: string, envName: string, value: boolean | undefined, env: Env, fallback: boolean): boolean {
  if (value !== undefined) {
    if (typeof value !== 'boolean')
      throw new HealthConfigError(name, `expected true or false, got ${JSON.stringify(value)}`);
    return value;
  }
  const raw = env[envName];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new HealthConfigError(envName, `expected true, false, 1 or 0, got ${JSON.stringify(raw)}`);
}

function stringOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '')
    throw new HealthConfigError(name, `expected a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

/** `service.version` from OTEL_RESOURCE_ATTRIBUTES (`key=value,key=value`, values percent-encoded). */
function resourceAttribute(env: Env, key: string): string | undefined {
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
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

export function resolveConfig(options: HealthServerOptions, env: Env = process.env): ResolvedConfig {
  if (options === null || typeof options !== 'object')
    throw new HealthConfigError('options', 'expected an options object');
  if (options.redact !== undefined && typeof options.redact !== 'function')
    throw new HealthConfigError('redact', 'expected a function (value: unknown) => unknown');
  if (
    options.metrics !== undefined &&
    options.metrics !== false &&
    (typeof options.metrics !== 'object' || typeof options.metrics.expose !== 'function')
  ) {
    throw new HealthConfigError('metrics', 'expected a Metrics instance from @periscope/metrics, or false');
  }
  const host = stringOption('host', options.host) ?? (env.PERISCOPE_HEALTH_HOST || DEFAULTS.host);
  return {
    port: intOption('port', 'PERISCOPE_HEALTH_PORT', options.port, env, DEFAULTS.port, 0, 65535),
    host,
    version: stringOption('version', options.version) ?? resourceAttribute(env, 'service.version') ?? 'unknown',
    serviceId: stringOption('serviceId', options.serviceId) ?? (env.OTEL_SERVICE_NAME || 'unknown_service:node'),
    drainDelayMs: intOption(
      'drainDelayMs',
      'PERISCOPE_HEALTH_DRAIN_DELAY_MS',
      options.drainDelayMs,
      env,
      DEFAULTS.drainDelayMs,
      0,
      3_600_000,
    ),
    shutdownTimeoutMs: intOption(
      'shutdownTimeoutMs',
      'PERISCOPE_HEALTH_SHUTDOWN_TIMEOUT_MS',
      options.shutdownTimeoutMs,
      env,
      DEFAULTS.shutdownTimeoutMs,
      0,
      3_600_000,
    ),
    hookTimeoutMs: intOption(
      'hookTimeoutMs',
      'PERISCOPE_HEALTH_HOOK_TIMEOUT_MS',
      options.hookTimeoutMs,
      env,
      DEFAULTS.hookTimeoutMs,
      1,
      3_600_000,
    ),
    statusTimeoutMs: intOption(
      'statusTimeoutMs',
      'PERISCOPE_HEALTH_STATUS_TIMEOUT_MS',
      options.statusTimeoutMs,
      env,
      DEFAULTS.statusTimeoutMs,
      1,
      600_000,
    ),
    handleSignals: boolOption(
      'handleSignals',
      'PERISCOPE_HEALTH_HANDLE_SIGNALS',
      options.handleSignals,
      env,
      DEFAULTS.handleSignals,
    ),
    debugToken: stringOption('debugToken', options.debugToken) ?? (env.PERISCOPE_DEBUG_TOKEN || undefined),
  };
}

/** Names of checks, status providers and hooks: they appear in URLs (/readyz/<name>) and metric labels. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function validateName(option: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new HealthConfigError(
      option,
      `expected 1-64 characters of letters, digits, '_', '.', '-' (starting with a letter or digit), got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

export function validateMs(option: string, value: unknown, fallback: number, min: number): number {
  return value === undefined ? fallback : validateInt(option, value, min, 3_600_000, ' number of milliseconds');
}
