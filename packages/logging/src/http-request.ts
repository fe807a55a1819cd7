// One POST of a shipping batch, as a promise that always settles: on the answer, a network error,
// a socket gone quiet for `timeoutMs`, or the whole exchange taking longer than `timeoutMs`.
// The reply body is read up to `maxReplyBytes` (the rest is drained and discarded).
import http from 'node:http';
import https from 'node:https';
import { redactString } from '@periscope/core';
import { ShippingError } from './errors';

export interface PostOptions {
  endpoint: URL;
  /** The endpoint as it may appear in errors (credentials and tokens removed). */
  safeEndpoint: string;
  agent: http.Agent;
  headers: Record<string, string>;
  contentType: string;
  body: string | Buffer;
  timeoutMs: number;
  /** Keep the body of a 2xx reply (Elasticsearch reports per item); else it is drained unread. */
  wantBody: boolean;
  maxReplyBytes: number;
  /** Called with the request so its owner can destroy it (shutdown). */
  onRequest(req: http.ClientRequest | null): void;
}

export interface PostReply {
  status: number;
  /** The body of a 2xx reply when asked for and within maxReplyBytes. */
  text?: string;
}

function failure(where: string, err: Error): ShippingError {
  return new ShippingError(`${where}: ${redactString(err.message)}`, true, undefined, { cause: err });
}

export function post(o: PostOptions): Promise<PostReply> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      o.onRequest(null);
      fn();
    };
    const lib = o.endpoint.protocol === 'https:' ? https : http;
    const req = lib.request(o.endpoint, {
      method: 'POST',
      agent: o.agent,
      timeout: o.timeoutMs,
      headers: { ...o.headers, 'content-type': o.contentType, 'content-length': Buffer.byteLength(o.body) },
    });
    const deadline = setTimeout(
      () => req.destroy(new Error(`no complete answer within ${o.timeoutMs} ms`)),
      o.timeoutMs,
    );
    deadline.unref();
    o.onRequest(req);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.on('error', (err) => settle(() => reject(failure(`cannot ship logs to ${o.safeEndpoint}`, err))));
    req.on('close', () =>
      settle(() => reject(failure(`cannot ship logs to ${o.safeEndpoint}`, new Error('connection closed')))),
    );
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const keep = o.wantBody && status >= 200 && status < 300;
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keep && bytes <= o.maxReplyBytes) chunks.push(c);
      });
      res.on('error', (err) => settle(() => reject(failure(`response from ${o.safeEndpoint} failed`, err))));
      res.on('end', () =>
        settle(() =>
          resolve({
            status,
            text: keep && bytes <= o.maxReplyBytes ? Buffer.concat(chunks).toString('utf8') : undefined,
          }),
        ),
      );
    });
    req.end(o.body);
  });
}
