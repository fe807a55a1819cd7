// Options resolution: explicit options win, then PERISCOPE_* environment variables, then
// defaults — except the off switch, where PERISCOPE_METRICS_ENABLED=false always wins so an
// operator can silence metrics without a code change. Every invalid value fails here, once.
import { InvalidConfigError } from './errors';
import type { MetricsOptions } from './types';

export interface ResolvedConfig {
  prefix: string;
  maxSeries: number;
  exemplars: boolean;
  enabled: boolean;
  collectDefaultMetrics: boolean;
  /** 0 = host metrics off. */
  hostIntervalMs: number;
  defaultLabels: Readonly<Record<string, string>>;
}

export const DEFAULT_MAX_SERIES = 2000;
export const DEFAULT_HOST_INTERVAL_MS = 15_000;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function envBool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InvalidConfigError(name, raw, 'true, false, 1 or 0');
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new InvalidConfigError(name, raw, 'an integer');
  return n;
}

function optBool(name: string, v: unknown): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  throw new InvalidConfigError(name, v, 'true or false');
}

export function resolveConfig(options: MetricsOptions, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const prefix = options.prefix ?? env.PERISCOPE_METRICS_PREFIX ?? '';
  if (typeof prefix !== 'string' || (prefix !== '' && !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))) {
    throw new InvalidConfigError(
      options.prefix !== undefined ? 'prefix' : 'PERISCOPE_METRICS_PREFIX',
      prefix,
      "'' or a string matching [a-zA-Z_:][a-zA-Z0-9_:]*",
    );
  }

  const maxSeries = options.maxSeriesPerMetric ?? envInt(env, 'PERISCOPE_METRICS_MAX_SERIES') ?? DEFAULT_MAX_SERIES;
  if (!Number.isInteger(maxSeries) || maxSeries < 1) {
    throw new InvalidConfigError(
      options.maxSeriesPerMetric !== undefined ? 'maxSeriesPerMetric' : 'PERISCOPE_METRICS_MAX_SERIES',
      maxSeries,
      'an integer >= 1',
    );
  }

  const exemplars = optBool('exemplars', options.exemplars) ?? envBool(env, 'PERISCOPE_METRICS_EXEMPLARS') ?? true;
  const collectDefaultMetrics =
    optBool('collectDefaultMetrics', options.collectDefaultMetrics) ??
    envBool(env, 'PERISCOPE_METRICS_DEFAULT_METRICS') ??
    false;
  const envEnabled = envBool(env, 'PERISCOPE_METRICS_ENABLED');
  const enabled = envEnabled === false ? false : (optBool('enabled', options.enabled) ?? true);

  let hostIntervalMs = 0;
  const host = options.hostMetrics;
  if (host === true) hostIntervalMs = DEFAULT_HOST_INTERVAL_MS;
  else if (typeof host === 'object' && host !== null) hostIntervalMs = host.intervalMs ?? DEFAULT_HOST_INTERVAL_MS;
  else if (host === undefined) hostIntervalMs = envInt(env, 'PERISCOPE_METRICS_HOST_INTERVAL_MS') ?? 0;
  else if (host !== false) throw new InvalidConfigError('hostMetrics', host, 'true, false or { intervalMs }');
  if (!Number.isInteger(hostIntervalMs) || (hostIntervalMs !== 0 && hostIntervalMs < 100)) {
    throw new InvalidConfigError(
      host === undefined ? 'PERISCOPE_METRICS_HOST_INTERVAL_MS' : 'hostMetrics.intervalMs',
      hostIntervalMs,
      'an integer >= 100 (milliseconds), or 0 for off',
    );
  }

  const defaultLabels = options.defaultLabels ?? {};
  for (const [k, v] of Object.entries(defaultLabels)) {
    if (!LABEL_NAME.test(k) || k.startsWith('__'))
      throw new InvalidConfigError(
        `defaultLabels.${k}`,
        k,
        'label names matching [a-zA-Z_][a-zA-Z0-9_]* not starting with __',
      );
    if (typeof v !== 'string') throw new InvalidConfigError(`defaultLabels.${k}`, v, 'a string value');
  }

  return {
    prefix,
    maxSeries,
    exemplars,
    enabled,
    collectDefaultMetrics,
    hostIntervalMs,
    defaultLabels: Object.freeze({ ...defaultLabels }),
  };
}
