// The payloads of the shippers, and the reading of what the receiver answered. Every reply is
// handled: a body that is not JSON, `null`, an `items` array with holes or nulls, or one too large
// to read all of it counts as "accepted" for a 2xx status (the HTTP status is the receiver's
// verdict; the items only refine it) and never throws.
import { LoggingConfigError } from './errors';
import { createJsonRenderer, toEcs } from './layouts';
import type { LogRecord } from './record';

/** Elasticsearch _bulk body (NDJSON): one `create` action and one ECS document per record. */
export function toElasticsearchBulk(records: readonly LogRecord[], index: string): string {
  if (typeof index !== 'string' || index === '')
    throw new LoggingConfigError('index', 'a non-empty Elasticsearch index or data stream name', index);
  const action = JSON.stringify({ create: { _index: index } });
  let body = '';
  for (const r of records) body += `${action}\n${JSON.stringify(toEcs(r))}\n`;
  return body;
}

export interface LokiPushBody {
  streams: { stream: Record<string, string>; values: [string, string][] }[];
}

/** Loki push body: one stream per (service, level) plus static labels; lines are OTel JSON. */
export function toLokiPush(records: readonly LogRecord[], labels: Record<string, string> = {}): LokiPushBody {
  const streams = new Map<string, LokiPushBody['streams'][number]>();
  const render = createJsonRenderer();
  for (const r of records) {
    const key = `${r.service}\u0000${r.level}`;
    let s = streams.get(key);
    if (!s) {
      s = { stream: { ...labels, service_name: r.service, level: r.level }, values: [] };
      streams.set(key, s);
    }
    // Loki wants nanoseconds as a decimal string.
    s.values.push([`${r.time}000000`, render(r)]);
  }
  return { streams: [...streams.values()] };
}

export interface BulkOutcome {
  /** Records the receiver asked to retry (Elasticsearch 429 per item). */
  retry: LogRecord[];
  /** Records it refused for good. */
  rejected: number;
}

const ACCEPTED: BulkOutcome = Object.freeze({ retry: [], rejected: 0 }) as BulkOutcome;

/** The status of one `items[i]` of a _bulk reply (`{ create: { status } }`), or undefined when unreadable. */
function itemStatus(item: unknown): number | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  for (const key in item) {
    const action = (item as Record<string, unknown>)[key];
    if (action === null || typeof action !== 'object') return undefined;
    const status = (action as { status?: unknown }).status;
    return typeof status === 'number' && Number.isInteger(status) ? status : undefined;
  }
  return undefined;
}

/**
 * Elasticsearch answers 200 even when some items failed: items answered 429 are retried, other
 * failed items rejected. `text` is undefined when the body was too large to keep.
 */
export function bulkOutcome(batch: readonly LogRecord[], text: string | undefined): BulkOutcome {
  if (text === undefined) return ACCEPTED;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return ACCEPTED;
  }
  if (parsed === null || typeof parsed !== 'object') return ACCEPTED;
  const { errors, items } = parsed as { errors?: unknown; items?: unknown };
  if (errors !== true || !Array.isArray(items)) return ACCEPTED;
  const retry: LogRecord[] = [];
  let rejected = 0;
  const n = Math.min(items.length, batch.length);
  for (let i = 0; i < n; i++) {
    const status = itemStatus(items[i]);
    if (status === undefined) continue;
    if (status === 429) retry.push(batch[i]);
    else if (status >= 300) rejected++;
  }
  return { retry, rejected };
}
