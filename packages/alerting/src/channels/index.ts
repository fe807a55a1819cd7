// Channels are plain objects in the options; each becomes a sender behind its own Delivery queue.
// Transition channels (console, webhook, email, custom) get grouped notifications of alerts that
// fired or resolved; the Alertmanager channel gets every active alert on each evaluation and
// decides itself what to (re)send, as Prometheus' notifier does.
import { createHmac } from 'node:crypto';
import { redactUrl, type Logger } from '@periscope/core';
import { AlertingConfigError, ChannelError } from '../errors';
import type { AlertingInstruments } from '../instrumentation';
import type { Alert } from '../state';
import { Delivery, type DeliveryOptions, type DeliveryStats } from './delivery';
import { alertmanagerAlert, emailText, pagerDutyEvents, slackMessage, webhookJson, type Notification } from './formats';
import { request } from './http';
import { sendMail, type SmtpOptions } from './smtp';

interface ChannelCommon extends DeliveryOptions {
  /** Name in metrics and stats. Default: the type (and host). */
  name?: string;
  /** Per-request timeout. Default 5000 ms (email: 10000 ms). */
  timeoutMs?: number;
}

export interface ConsoleChannel extends ChannelCommon {
  type: 'console';
  /** Default process.stdout. */
  stream?: { write(text: string): unknown };
}
export interface WebhookChannel extends ChannelCommon {
  type: 'webhook';
  url: string;
  /** Default 'json' (Alertmanager's webhook JSON). */
  format?: 'json' | 'slack' | 'pagerduty';
  /** HMAC-SHA256 key: `X-Periscope-Signature: sha256=<hex of HMAC(timestamp + "." + body)>` and `X-Periscope-Timestamp`. */
  secret?: string;
  /** PagerDuty integration (routing) key; required for format 'pagerduty'. */
  routingKey?: string;
  headers?: Record<string, string>;
}
export interface EmailChannel extends ChannelCommon {
  type: 'email';
  smtp: SmtpOptions;
  to: string | string[];
  from: string;
  /** Default '[periscope] '. */
  subjectPrefix?: string;
}
export interface AlertmanagerChannel extends ChannelCommon {
  type: 'alertmanager';
  /** Alertmanager base URL, e.g. http://127.0.0.1:9093. */
  url: string;
  /** Firing alerts are re-sent this often. Default 60000 ms (Prometheus' --rules.alert.resend-delay). */
  resendDelayMs?: number;
}
export interface CustomChannel extends ChannelCommon {
  type: 'custom';
  name: string;
  send(notification: Notification): void | Promise<void>;
}
export type ChannelConfig = ConsoleChannel | WebhookChannel | EmailChannel | AlertmanagerChannel | CustomChannel;

export interface ChannelContext {
  instruments: AlertingInstruments;
  logger: Logger;
  /** Base of generatorURL / externalURL. */
  externalUrl: string;
  /** Evaluation interval (for Alertmanager's endsAt of firing alerts). */
  evaluateEveryMs: number;
}

export interface Channel {
  readonly name: string;
  readonly type: ChannelConfig['type'];
  /** Grouped transitions (not called for the Alertmanager channel). */
  notify?(n: Notification): void;
  /** Every active alert after an evaluation (Alertmanager only). */
  sync?(alerts: readonly Alert[], now: number): void;
  stats(): DeliveryStats;
  drained(): Promise<void>;
  close(timeoutMs: number): Promise<void>;
}

function checkUrl(option: string, url: unknown): string {
  if (typeof url !== 'string') throw new AlertingConfigError(option, 'an http:// or https:// URL', url);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AlertingConfigError(option, 'an http:// or https:// URL', redactUrl(url));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new AlertingConfigError(option, 'an http:// or https:// URL', redactUrl(url));
  return url;
}

function transitionChannel(
  name: string,
  type: ChannelConfig['type'],
  config: ChannelCommon,
  ctx: ChannelContext,
  send: (n: Notification, signal: AbortSignal) => Promise<void>,
): Channel {
  const delivery = new Delivery<Notification>(name, send, config, ctx.instruments, ctx.logger);
  return {
    name,
    type,
    notify: (n) => delivery.enqueue(n),
    stats: () => ({ ...delivery.stats }),
    drained: () => delivery.drained(),
    close: (ms) => delivery.close(ms),
  };
}

function webhookSender(config: WebhookChannel, ctx: ChannelContext, name: string) {
  const url = checkUrl(`channels.${name}.url`, config.url);
  const format = config.format ?? 'json';
  if (!['json', 'slack', 'pagerduty'].includes(format))
    throw new AlertingConfigError(`channels.${name}.format`, 'json, slack or pagerduty', format);
  if (format === 'pagerduty' && (typeof config.routingKey !== 'string' || config.routingKey === ''))
    throw new AlertingConfigError(`channels.${name}.routingKey`, 'the PagerDuty integration key', config.routingKey);
  const timeoutMs = config.timeoutMs ?? 5000;
  const post = async (payload: object, signal: AbortSignal) => {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'periscope-alerting',
      ...config.headers,
    };
    if (config.secret !== undefined) {
      const ts = String(Math.floor(Date.now() / 1000));
      headers['X-Periscope-Timestamp'] = ts;
      headers['X-Periscope-Signature'] =
        `sha256=${createHmac('sha256', config.secret).update(`${ts}.${body}`).digest('hex')}`;
    }
    try {
      await request(url, { body, headers, timeoutMs, signal });
    } catch (err) {
      throw new ChannelError(name, (err as Error).message, { cause: err });
    }
  };
  return async (n: Notification, signal: AbortSignal) => {
    if (format === 'json') return post(webhookJson(n, name), signal);
    if (format === 'slack') return post(slackMessage(n), signal);
    for (const event of pagerDutyEvents(n, config.routingKey as string, ctx.externalUrl || 'periscope'))
      await post(event, signal);
  };
}

function alertmanagerChannel(config: AlertmanagerChannel, ctx: ChannelContext, name: string): Channel {
  const base = checkUrl(`channels.${name}.url`, config.url).replace(/\/+$/, '');
  const resendDelayMs = config.resendDelayMs ?? 60_000;
  const timeoutMs = config.timeoutMs ?? 5000;
  const lastSent = new Map<string, { at: number; resolved: boolean }>();
  const delivery = new Delivery<object[]>(
    name,
    async (batch, signal) => {
      try {
        await request(`${base}/api/v2/alerts`, {
          body: JSON.stringify(batch),
          headers: { 'Content-Type': 'application/json' },
          timeoutMs,
          signal,
        });
      } catch (err) {
        throw new ChannelError(name, (err as Error).message, { cause: err });
      }
    },
    config,
    ctx.instruments,
    ctx.logger,
  );
  const validFor = 4 * Math.max(resendDelayMs, ctx.evaluateEveryMs || resendDelayMs);
  return {
    name,
    type: 'alertmanager',
    sync(alerts, now) {
      const batch: object[] = [];
      const live = new Set<string>();
      for (const a of alerts) {
        if (a.state === 'pending') continue;
        live.add(a.fingerprint);
        const prev = lastSent.get(a.fingerprint);
        const resolved = a.state === 'resolved';
        const due = prev === undefined || (resolved && !prev.resolved) || now - prev.at >= resendDelayMs;
        if (!due) continue;
        lastSent.set(a.fingerprint, { at: now, resolved });
        const generatorURL = `${ctx.externalUrl}/alerts?rule=${encodeURIComponent(a.rule)}`;
        batch.push(alertmanagerAlert(a, resolved ? (a.resolvedAt as number) : now + validFor, generatorURL));
      }
      for (const fp of lastSent.keys()) if (!live.has(fp)) lastSent.delete(fp);
      if (batch.length > 0) delivery.enqueue(batch);
    },
    stats: () => ({ ...delivery.stats }),
    drained: () => delivery.drained(),
    close: (ms) => delivery.close(ms),
  };
}

/** Builds a channel from its plain-object configuration. */
export function createChannel(config: ChannelConfig, index: number, ctx: ChannelContext): Channel {
  if (config === null || typeof config !== 'object')
    throw new AlertingConfigError(`channels[${index}]`, 'a channel object', config);
  const name = config.name ?? `${config.type}${index === 0 ? '' : `-${index}`}`;
  switch (config.type) {
    case 'console': {
      const stream = config.stream ?? process.stdout;
      return transitionChannel(name, 'console', config, ctx, async (n) => {
        for (const a of n.alerts)
          stream.write(
            `[alert] ${a.state === 'resolved' ? 'RESOLVED' : 'FIRING'} ${a.labels.alertname} severity=${a.labels.severity ?? ''} value=${a.value} ${a.annotations.summary ?? ''} ${JSON.stringify(a.labels)}\n`,
          );
      });
    }
    case 'webhook':
      return transitionChannel(name, 'webhook', config, ctx, webhookSender(config, ctx, name));
    case 'email': {
      const to = Array.isArray(config.to) ? config.to : [config.to];
      if (to.length === 0 || to.some((t) => typeof t !== 'string' || t === ''))
        throw new AlertingConfigError(`channels.${name}.to`, 'one or more addresses', config.to);
      if (typeof config.from !== 'string' || config.from === '')
        throw new AlertingConfigError(`channels.${name}.from`, 'an address', config.from);
      if (
        config.smtp === null ||
        typeof config.smtp !== 'object' ||
        typeof config.smtp.host !== 'string' ||
        !Number.isInteger(config.smtp.port)
      )
        throw new AlertingConfigError(`channels.${name}.smtp`, '{ host, port, … }', config.smtp);
      const prefix = config.subjectPrefix ?? '[periscope] ';
      return transitionChannel(name, 'email', config, ctx, async (n, signal) => {
        const { subject, text } = emailText(n, prefix);
        try {
          await sendMail(
            { timeoutMs: config.timeoutMs, ...config.smtp },
            { from: config.from, to, subject, text },
            signal,
          );
        } catch (err) {
          throw new ChannelError(name, (err as Error).message, { cause: err });
        }
      });
    }
    case 'alertmanager':
      return alertmanagerChannel(config, ctx, name);
    case 'custom':
      if (typeof config.send !== 'function')
        throw new AlertingConfigError(`channels.${name}.send`, 'a function', config.send);
      return transitionChannel(name, 'custom', config, ctx, async (n) => config.send(n));
    default:
      throw new AlertingConfigError(
        `channels[${index}].type`,
        'console, webhook, email, alertmanager or custom',
        (config as { type?: unknown }).type,
      );
  }
}

export type { Notification } from './formats';
