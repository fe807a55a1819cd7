// Pushgateway client for batch jobs: PUT (replace the group), POST (merge) or DELETE to
// /metrics/job/<job>{/<label>/<value>}. Credentials in the URL are sent as Basic auth and never
// appear in error messages.
import http from 'node:http';
import https from 'node:https';
import { redactUrl } from '@periscope/core';
import { MetricsConfigError, PushgatewayError } from './errors';

export interface PushOptions {
  /** Pushgateway base URL. Env `PERISCOPE_PUSHGATEWAY_URL`. */
  url?: string;
  /** Job label of the group. */
  job: string;
  /** Further grouping labels (e.g. `{ instance: 'batch-7' }`). */
  groupings?: Record<string, string>;
  /** PUT replaces the group (default), POST merges into it, DELETE removes it. */
  method?: 'PUT' | 'POST' | 'DELETE';
  /** Request timeout. Default 5000 ms. */
  timeoutMs?: number;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One path segment pair; values with `/` (or empty) use the base64url form the Pushgateway accepts. */
function segment(name: string, value: string): string {
  if (value === '' || value.includes('/')) return `/${name}@base64/${Buffer.from(value).toString('base64url') || '='}`;
  return `/${name}/${encodeURIComponent(value)}`;
}

export function pushPath(job: string, groupings: Record<string, string> = {}): string {
  let path = segment('job', job);
  for (const [k, v] of Object.entries(groupings)) path += segment(k, v);
  return path;
}

export async function pushToGateway(options: PushOptions, body: string): Promise<void> {
  const raw = options.url ?? process.env.PERISCOPE_PUSHGATEWAY_URL;
  let base: URL;
  try {
    base = new URL(raw ?? '');
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new MetricsConfigError(
      options.url !== undefined ? 'url' : 'PERISCOPE_PUSHGATEWAY_URL',
      'an http:// or https:// Pushgateway URL',
      raw, // described through core's redactor: a password in it never reaches the message
    );
  }
  if (typeof options.job !== 'string' || options.job === '')
    throw new MetricsConfigError('job', 'a non-empty string', options.job);
  for (const [k, v] of Object.entries(options.groupings ?? {})) {
    if (!LABEL_NAME.test(k) || k === 'job')
      throw new MetricsConfigError(`groupings.${k}`, 'label names matching [a-zA-Z_][a-zA-Z0-9_]* other than "job"', k);
    if (typeof v !== 'string') throw new MetricsConfigError(`groupings.${k}`, 'a string value', v);
  }
  const method = options.method ?? 'PUT';
  if (method !== 'PUT' && method !== 'POST' && method !== 'DELETE')
    throw new MetricsConfigError('method', 'PUT, POST or DELETE', method);
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new MetricsConfigError('timeoutMs', 'an integer >= 1', timeoutMs);

  const path = base.pathname.replace(/\/$/, '') + '/metrics' + pushPath(options.job, options.groupings);
  const headers: Record<string, string | number> = {
    'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  };
  if (base.username || base.password)
    headers.Authorization =
      'Basic ' +
      Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64');
  const where = redactUrl(base.href, { form: 'no-credentials' }).replace(/\/$/, '');
  const client = base.protocol === 'https:' ? https : http;

  await new Promise<void>((resolve, reject) => {
    // agent: false — a push is a one-off request; no idle keep-alive socket should outlive it.
    const req = client.request(
      {
        hostname: base.hostname,
        port: base.port || undefined,
        path,
        method,
        headers,
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else
            reject(
              new PushgatewayError(
                `Pushgateway ${where} answered ${status} to ${method} ${path}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`,
                status,
              ),
            );
        });
        res.on('error', (err) => reject(new PushgatewayError(`Pushgateway ${where}: ${err.message}`)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) =>
      reject(new PushgatewayError(`Pushgateway ${where} ${method} ${path} failed: ${err.message}`)),
    );
    req.end(body);
  });
}
