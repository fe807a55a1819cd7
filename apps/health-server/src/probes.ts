// What the node monitor checks: PostgreSQL and Redis (a node, a Cluster or a Sentinel-managed
// master, in the cache's URL forms) answer a round trip, and each agent instance
// is ready. Each probe opens a fresh connection (a monitor must see what a new client would),
// bounds it by a timeout (and an agent's answer by a size), and reports failure with the reason —
// never throws, never leaks secrets.
import pg from 'pg';
import Redis from 'ioredis';
import { parseRedisUrl, type RedisTarget } from '@periscope/cache';
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

const SLOTS = 16384;

const singleNode = (timeoutMs: number) => ({
  lazyConnect: true,
  connectTimeout: timeoutMs,
  commandTimeout: timeoutMs,
  disconnectTimeout: timeoutMs,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  retryStrategy: () => null,
});

/** PING through a client of the URL's form (a node, or the master a Sentinel names). */
async function ping(target: Exclude<RedisTarget, { kind: 'cluster' }>, timeoutMs: number, where: string) {
  const client =
    target.kind === 'single'
      ? new Redis(target.url, singleNode(timeoutMs))
      : new Redis({
          ...singleNode(timeoutMs),
          username: target.username,
          password: target.password,
          ...(target.tls ? { tls: {} } : {}),
          sentinels: target.sentinels,
          name: target.name,
          db: target.db,
          sentinelPassword: target.sentinelPassword,
          sentinelRetryStrategy: () => null,
        });
  client.on('error', () => undefined); // a server-side drop after the probe must not crash the monitor
  try {
    await client.connect();
    const pong = await client.ping();
    return pong === 'PONG' ? undefined : `${where} answered ${String(pong).slice(0, 64)}`;
  } finally {
    client.disconnect();
  }
}

/**
 * A Cluster is asked through its seeds, one at a time, for CLUSTER INFO: the first node that
 * answers says whether every slot is served (`cluster_state:ok`). One lost master with no replica
 * to take over is a failed check, as it is for the keys it owned.
 */
async function clusterState(target: Extract<RedisTarget, { kind: 'cluster' }>, timeoutMs: number, where: string) {
  let lastError: unknown;
  // The whole walk is bounded like one node's probe (connect + command), however many seeds are dead.
  const deadline = performance.now() + 2 * timeoutMs;
  for (const node of target.nodes.slice(0, 8)) {
    const left = Math.floor(deadline - performance.now());
    if (left <= 0) break;
    const client = new Redis({
      ...singleNode(Math.min(timeoutMs, left)),
      host: node.host,
      port: node.port,
      username: target.username,
      password: target.password,
      ...(target.tls ? { tls: {} } : {}),
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const info = String(await client.cluster('INFO'));
      const state = /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
      if (state !== 'ok') return `${where}: cluster_state is ${state.slice(0, 32)}`;
      // With cluster-require-full-coverage no the state stays ok while some slots have no server.
      const served = Number(/cluster_slots_ok:(\d+)/.exec(info)?.[1] ?? NaN);
      return served === SLOTS
        ? undefined
        : `${where}: ${Number.isNaN(served) ? 'unknown' : served} of ${SLOTS} slots served`;
    } catch (err) {
      lastError = err;
    } finally {
      client.disconnect();
    }
  }
  throw lastError instanceof Error ? lastError : new Error('no seed node answered');
}

/**
 * Resolves to a result, never rejects. A single node or a Sentinel-managed master answers PING; a
 * Cluster passes when a seed says every slot is served.
 */
export async function probeRedis(url: string, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  let target: RedisTarget;
  try {
    target = parseRedisUrl(url, 'REDIS_URL');
  } catch (err) {
    return failure(err, `Redis URL ${describeEndpoint(url)} is malformed`);
  }
  const where = `Redis${target.kind === 'single' ? '' : ` ${target.kind}`} at ${describeEndpoint(url)}`;
  try {
    const problem =
      target.kind === 'cluster' ? await clusterState(target, timeoutMs, where) : await ping(target, timeoutMs, where);
    if (problem !== undefined) return { status: 'fail', output: problem };
    return { status: 'pass', observedValue: Math.round(performance.now() - started), observedUnit: 'ms' };
  } catch (err) {
    return failure(err, where);
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
