// What the node monitor checks: PostgreSQL and Redis answer a round trip, and each agent instance
// is ready. Each probe opens a fresh connection (a monitor must see what a new client would),
// bounds it by a timeout, and reports failure with the reason — never throws, never leaks secrets.
import pg from 'pg';
import Redis from 'ioredis';
import { redactString } from '@periscope/logging';

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

/** Where a URL points, with no credentials: safe for /status. */
export function describeEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

export async function probePostgres(connectionString: string, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'periscope-health-server',
  });
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
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    disconnectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
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

/** Polls an agent instance's /readyz; pass a tracing fetch to propagate trace context. */
export async function probeAgent(
  baseUrl: string,
  timeoutMs: number,
  fetchImpl: typeof fetch = fetch,
): Promise<AgentProbe> {
  const url = `${baseUrl.replace(/\/+$/, '')}/readyz`;
  const started = performance.now();
  try {
    const res = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
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
        name === 'TimeoutError' ? new Error(`no answer within ${timeoutMs} ms`) : ((err as Error).cause ?? err),
        `agent ${describeEndpoint(baseUrl)}`,
      ),
    };
  }
}

/** PERISCOPE_AGENTS: comma-separated base URLs; each must be http(s). */
export function parseAgentList(raw: string | undefined): string[] {
  if (!raw) return [];
  const urls = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new TypeError(
        `PERISCOPE_AGENTS: '${redactString(u)}' is not an absolute URL (expected e.g. http://10.0.0.5:9464)`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new TypeError(`PERISCOPE_AGENTS: '${redactString(u)}' must be http or https`);
  }
  return urls;
}
