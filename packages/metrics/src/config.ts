// Options resolution: explicit options win, then PERISCOPE_* environment variables, then
// defaults — except the off switch, where PERISCOPE_METRICS_ENABLED=false always wins so an
// operator can silence metrics without a code change. Every invalid value fails here, once.
import { ConfigReader, type Env } from '@periscope/core';
import { MetricsConfigError } from './errors';
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

/** Every option createMetrics() knows; anything else fails (a typo must not be silently ignored). */
const KNOWN_OPTIONS: readonly (keyof MetricsOptions)[] = [
  'prefix',
  'registry',
  'defaultLabels',
  'collectDefaultMetrics',
  'maxSeriesPerMetric',
  'exemplars',
  'hostMetrics',
  'enabled',
  'onWarning',
  'env',
];

export function resolveConfig(options: MetricsOptions, env: Env = process.env): ResolvedConfig {
  const read = new ConfigReader({ env, error: (o, a, g, s) => new MetricsConfigError(o, a, g, s) });
  read.rejectUnknown(options, KNOWN_OPTIONS, 'createMetrics()');
  const prefix = read.string('prefix', options.prefix === '' ? undefined : options.prefix, {
    env: 'PERISCOPE_METRICS_PREFIX',
    default: '',
  });
  if (prefix !== '' && !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    read.fail(
      options.prefix !== undefined ? 'prefix' : 'PERISCOPE_METRICS_PREFIX',
      "'' or a string matching [a-zA-Z_:][a-zA-Z0-9_:]*",
      prefix,
    );
  }
  const maxSeries = read.integer('maxSeriesPerMetric', options.maxSeriesPerMetric, {
    env: 'PERISCOPE_METRICS_MAX_SERIES',
    default: DEFAULT_MAX_SERIES,
    min: 1,
  });
  const exemplars = read.boolean('exemplars', options.exemplars, { env: 'PERISCOPE_METRICS_EXEMPLARS', default: true });
  const collectDefaultMetrics = read.boolean('collectDefaultMetrics', options.collectDefaultMetrics, {
    env: 'PERISCOPE_METRICS_DEFAULT_METRICS',
    default: false,
  });
  // The off switch: PERISCOPE_METRICS_ENABLED=false wins even over an explicit option.
  const envEnabled = read.boolean('enabled', undefined, { env: 'PERISCOPE_METRICS_ENABLED', default: true });
  const enabled = envEnabled && read.boolean('enabled', options.enabled, { default: true });

  let hostIntervalMs = 0;
  const host = options.hostMetrics;
  if (host === true) hostIntervalMs = DEFAULT_HOST_INTERVAL_MS;
  else if (typeof host === 'object' && host !== null)
    hostIntervalMs = read.duration('hostMetrics.intervalMs', host.intervalMs, {
      default: DEFAULT_HOST_INTERVAL_MS,
      min: 100,
    });
  else if (host === undefined)
    hostIntervalMs = read.duration('hostMetrics', undefined, { env: 'PERISCOPE_METRICS_HOST_INTERVAL_MS', default: 0 });
  else if (host !== false) read.fail('hostMetrics', 'true, false or { intervalMs }', host);
  if (!Number.isInteger(hostIntervalMs) || (hostIntervalMs !== 0 && hostIntervalMs < 100)) {
    read.fail(
      host === undefined ? 'PERISCOPE_METRICS_HOST_INTERVAL_MS' : 'hostMetrics.intervalMs',
      'an integer >= 100 (milliseconds), or 0 for off',
      hostIntervalMs,
    );
  }

  const defaultLabels = options.defaultLabels ?? {};
  for (const [k, v] of Object.entries(defaultLabels)) {
    if (!LABEL_NAME.test(k) || k.startsWith('__'))
      throw new MetricsConfigError(
        `defaultLabels.${k}`,
        'label names matching [a-zA-Z_][a-zA-Z0-9_]* not starting with __',
        k,
      );
    if (typeof v !== 'string') throw new MetricsConfigError(`defaultLabels.${k}`, 'a string value', v);
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
