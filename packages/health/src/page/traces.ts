// The trace source the page reads (a @periscope/tracing TraceStore fits), and the query parsing of
// GET /status/traces: name (substring), status (error|ok), minMs, limit.
import { HttpError } from '../errors';

export interface TraceSummaryLike {
  traceId: string;
  rootName: string;
  startTime: number;
  durationMs: number;
  spanCount: number;
  error: boolean;
}

/** What the page needs of a trace store: `TraceStore` from @periscope/tracing has both methods. */
export interface TraceSource {
  recentTraces(query?: { errorsOnly?: boolean; minDurationMs?: number; limit?: number }): TraceSummaryLike[];
  getTrace(traceId: string): unknown;
}

export interface TraceQuery {
  name: string;
  status: 'any' | 'error' | 'ok';
  minMs: number;
  limit: number;
}

/** Traces scanned before the name/status filters apply. */
const SCAN = 500;
export const MAX_LIMIT = 200;

function number(query: URLSearchParams, key: string, fallback: number, max: number): number {
  const raw = query.get(key);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > max)
    throw new HttpError(400, `query parameter ${key} must be a number in [0, ${max}]`);
  return n;
}

export function parseTraceQuery(query: URLSearchParams): TraceQuery {
  const status = query.get('status') || 'any';
  if (status !== 'any' && status !== 'error' && status !== 'ok')
    throw new HttpError(400, 'query parameter status must be one of any, error, ok');
  const name = query.get('name') ?? '';
  if (name.length > 200) throw new HttpError(400, 'query parameter name must be at most 200 characters');
  return {
    name: name.toLowerCase(),
    status,
    minMs: number(query, 'minMs', 0, 86_400_000),
    limit: Math.floor(number(query, 'limit', 50, MAX_LIMIT)),
  };
}

/** Newest first, filtered. */
export function findTraces(source: TraceSource, q: TraceQuery): TraceSummaryLike[] {
  const all = source.recentTraces({ errorsOnly: q.status === 'error', minDurationMs: q.minMs, limit: SCAN });
  const out: TraceSummaryLike[] = [];
  for (const t of all) {
    if (out.length >= q.limit) break;
    if (q.status === 'ok' && t.error) continue;
    if (q.name !== '' && !String(t.rootName).toLowerCase().includes(q.name)) continue;
    out.push(t);
  }
  return out;
}

export function isTraceSource(value: unknown): value is TraceSource {
  const v = value as Partial<TraceSource> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.recentTraces === 'function' && typeof v.getTrace === 'function'
  );
}

export const TRACE_ID = /^[0-9a-f]{32}$/;
