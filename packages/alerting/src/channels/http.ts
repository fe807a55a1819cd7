// One HTTP(S) request with a timeout and no kept-alive socket (a notification is a one-off; no
// idle socket may outlive close()). Non-2xx answers reject; the URL in messages is redacted.
import http from 'node:http';
import https from 'node:https';
import { redactUrl } from '@periscope/core';

export interface HttpResult {
  status: number;
  body: string;
}

export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function request(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs: number;
    signal?: AbortSignal;
  },
): Promise<HttpResult> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const where = redactUrl(target.href, { form: 'origin' });
  const body = options.body ?? '';
  return new Promise<HttpResult>((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
    if (target.username || target.password)
      headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
    const req = client.request(
      {
        hostname: target.hostname,
        port: target.port || undefined,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'POST',
        headers,
        timeout: options.timeoutMs,
        agent: false,
        signal: options.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 64 * 1024) chunks.push(c);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (status >= 200 && status < 300) resolve({ status, body: text });
          else reject(new HttpStatusError(status, `${where} answered ${status}: ${text.slice(0, 200)}`));
        });
        res.on('error', (err) => reject(new Error(`${where}: ${err.message}`)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${where} within ${options.timeoutMs} ms`)));
    req.on('error', (err) => reject(err.message.includes(where) ? err : new Error(`${where}: ${err.message}`)));
    req.end(body);
  });
}
