// What the node monitor checks: PostgreSQL and Redis answer a round trip, and each agent instance
// is ready. Each probe opens a fresh connection (a monitor must see what a new client would),
// bounds it by a timeout (and an agent's answer by a size), and reports failure with the reason —
// never throws, never leaks secrets.
import pg from 'pg';
import Redis from 'ioredis';
import { redactString, redactUrl } from '@periscope/core';

export interface ProbeResult {
  status: 'pass' | 'fail';
  observedValue?: number;
  observedUnit?: string;
  output?: string;
}

function failure(err: unknown, what: string): ProbeResult {
  const message = err instanceof Error ? err.message : String(err);
  return { status: 'fail', output: redactString(`${what}: ${message}`) };
}

/** Where a URL points, with no credentials, query or fragment: safe for /status. */
export function describeEndpoint(url: string): string {
  return redactUrl(url, { form: 'no-credentials' }).replace(/\/$/, '');
}

/** Resolves to a result, never rejects: a malformed connection string is a failed probe that says so. */
export async function probePostgres(connectionString: string, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  let client: pg.Client;
  try {
    // pg parses the string here and throws on a malformed one (e.g. "Invalid URL").
    client = new pg.Client({
      connectionString,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      application_name: 'periscope-health-server',
    });
  } catch (err) {
    return failure(err, `PostgreSQL connection string ${describeEndpoint(connectionString)} is malformed`);
  }
  client.on('error', () => undefined); // a server-side drop after the probe must not crash the monitor
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { status: 'pass', observedValue: Math.round(performance.now() - started), observedUnit: 'ms' };
  } catch (err) {
    return failure(err, `PostgreSQL at ${describeEndpoint(connectionString)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function probeRedis(url: string, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  let client: Redis;
  try {
    client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      disconnectTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
  } catch (err) {
    return failure(err, `Redis URL ${describeEndpoint(url)} is malformed`);
  }
  client.on('error', () => undefined);
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') return { status: 'fail', output: `Redis at ${describeEndpoint(url)} answered ${pong}` };
    return { status: 'pass', observedValue: Math.round(performance.now() - started), observedUnit: 'ms' };
  } catch (err) {
    return failure(err, `Redis at ${describeEndpoint(url)}`);
  } finally {
    client.disconnect();
  }
}

export interface AgentProbe extends ProbeResult {
  url: string;
  httpStatus?: number;
}

/** The most of an agent's /readyz answer read by default: a readiness body is a few hundred bytes. */
export const MAX_AGENT_BODY_BYTES = 64 * 1024;

class BodyTooLargeError extends Error {
  constructor(limit: number) {
    super(`the /readyz response body exceeds ${limit} bytes; stopped reading`);
  }
}

/** Reads at most `limit` bytes of a body, then cancels the stream and throws. */
export async function readBounded(res: Response, limit: number): Promise<number> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(limit);
  }
  if (!res.body) return 0;
  const reader = res.body.getReader();
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return size;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(limit);
    }
  }
}

/** Polls an agent instance's /readyz; pass a tracing fetch to propagate trace context. */
export async function probeAgent(
  baseUrl: string,
  timeoutMs: number,
  fetchImpl: typeof fetch = fetch,
  maxBodyBytes = MAX_AGENT_BODY_BYTES,
): Promise<AgentProbe> {
  const url = `${baseUrl.replace(/\/+$/, '')}/readyz`;
  const started = performance.now();
  try {
    const res = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs) });
    await readBounded(res, maxBodyBytes);
    const ms = Math.round(performance.now() - started);
    return res.status === 200
      ? { url: describeEndpoint(baseUrl), status: 'pass', httpStatus: 200, observedValue: ms, observedUnit: 'ms' }
      : {
          url: describeEndpoint(baseUrl),
          status: 'fail',
          httpStatus: res.status,
          observedValue: ms,
          observedUnit: 'ms',
          output: `/readyz answered ${res.status}`,
        };
  } catch (err) {
    const name = (err as Error).name;
    return {
      url: describeEndpoint(baseUrl),
      ...failure(
        name === 'TimeoutError'
          ? new Error(`no answer within ${timeoutMs} ms`)
          : err instanceof BodyTooLargeError
            ? err
            : ((err as Error).cause ?? err),
        `agent ${describeEndpoint(baseUrl)}`,
      ),
    };
  }
}
