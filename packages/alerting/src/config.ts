// The manager's options, declared once and resolved once through core's ConfigReader: explicit
// option > environment variable > default; unknown keys fail naming the nearest known one.
import { createConfigReader, type Env, type Logger } from '@periscope/core';
import type { History, Metrics } from '@periscope/metrics';
import type { ChannelConfig } from './channels';
import { AlertingConfigError } from './errors';
import type { Rule } from './rules';
import type { InhibitRule } from './silences';
import type { SeriesSource } from './source';

export interface AlertManagerOptions {
  /** Where rules' metrics live; the manager samples their history itself (unless `history` is given). */
  metrics?: Metrics;
  /** Evaluate over this history instead (the caller samples it). */
  history?: History;
  /** Evaluate over any source of series (advanced; tests). */
  source?: SeriesSource;
  /** Evaluation (and sampling) interval; 0 = only when `evaluate()` is called. Env PERISCOPE_ALERTING_EVALUATE_EVERY. Default 15000 ms. */
  evaluateEveryMs?: number;
  /** How much history the manager keeps when it samples itself. Default 3600000 ms (rules may read up to this far back). */
  historyRetentionMs?: number;
  rules?: readonly Rule[];
  channels?: readonly ChannelConfig[];
  /** Also push to this Alertmanager (adds an `alertmanager` channel). Env PERISCOPE_ALERTMANAGER_URL. */
  alertmanagerUrl?: string;
  /** Labels that group notifications. Default ['alertname']. */
  groupBy?: readonly string[];
  /** A still-firing alert is notified again after this. Env PERISCOPE_ALERTING_REPEAT_INTERVAL. Default 14400000 ms (4 h). */
  repeatIntervalMs?: number;
  /** Default: critical mutes warning of the same alertname. */
  inhibitRules?: readonly InhibitRule[];
  /** State transitions kept by `history()`. Default 1000. */
  historyLimit?: number;
  /** Base URL of generatorURL links. Env PERISCOPE_ALERTING_EXTERNAL_URL. Default http://localhost. */
  externalUrl?: string;
  /** A log-pattern alert resolves after this long without a new match. Default 300000 ms. */
  logAlertTtlMs?: number;
  /** How long close() waits for queued notifications. Default 5000 ms. */
  closeTimeoutMs?: number;
  logger?: Logger;
  env?: Env;
}

export const KNOWN_OPTIONS = [
  'metrics',
  'history',
  'source',
  'evaluateEveryMs',
  'historyRetentionMs',
  'rules',
  'channels',
  'alertmanagerUrl',
  'groupBy',
  'repeatIntervalMs',
  'inhibitRules',
  'historyLimit',
  'externalUrl',
  'logAlertTtlMs',
  'closeTimeoutMs',
  'logger',
  'env',
];

export interface ResolvedOptions {
  evaluateEveryMs: number;
  historyRetentionMs: number;
  alertmanagerUrl: string | undefined;
  groupBy: readonly string[];
  repeatIntervalMs: number;
  historyLimit: number;
  externalUrl: string;
  logAlertTtlMs: number;
  closeTimeoutMs: number;
}

export function resolveOptions(options: AlertManagerOptions): ResolvedOptions {
  const reader = createConfigReader({
    env: options.env,
    scope: 'alerting',
    error: (o, a, g, s) => new AlertingConfigError(o, a, g, s),
  });
  reader.rejectUnknown(options, KNOWN_OPTIONS);
  const groupBy = options.groupBy ?? ['alertname'];
  if (!Array.isArray(groupBy) || groupBy.some((g) => typeof g !== 'string'))
    reader.fail('groupBy', 'an array of label names', groupBy);
  return {
    evaluateEveryMs: reader.duration('evaluateEveryMs', options.evaluateEveryMs, {
      env: 'PERISCOPE_ALERTING_EVALUATE_EVERY',
      default: 15_000,
      min: 0,
      max: 86_400_000,
    }),
    historyRetentionMs: reader.duration('historyRetentionMs', options.historyRetentionMs, {
      default: 3_600_000,
      min: 1000,
      max: 7 * 86_400_000,
    }),
    alertmanagerUrl: reader.url('alertmanagerUrl', options.alertmanagerUrl, {
      env: 'PERISCOPE_ALERTMANAGER_URL',
      default: undefined,
      protocols: ['http:', 'https:'],
    }),
    groupBy,
    repeatIntervalMs: reader.duration('repeatIntervalMs', options.repeatIntervalMs, {
      env: 'PERISCOPE_ALERTING_REPEAT_INTERVAL',
      default: 14_400_000,
      min: 1,
    }),
    historyLimit: reader.integer('historyLimit', options.historyLimit, { default: 1000, min: 1, max: 1_000_000 }),
    externalUrl: reader
      .url('externalUrl', options.externalUrl, {
        env: 'PERISCOPE_ALERTING_EXTERNAL_URL',
        default: 'http://localhost',
        protocols: ['http:', 'https:'],
      })
      .replace(/\/+$/, ''),
    logAlertTtlMs: reader.duration('logAlertTtlMs', options.logAlertTtlMs, { default: 300_000, min: 1 }),
    closeTimeoutMs: reader.duration('closeTimeoutMs', options.closeTimeoutMs, { default: 5000, min: 0, max: 600_000 }),
  };
}
