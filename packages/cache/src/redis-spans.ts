// L2 spans per the Redis conventions: db.operation.name is the command sent (pipelines and
// several commands under one span follow the batch rule: "PIPELINE {CMD}" when all are the same,
// else "PIPELINE"), our meaning in periscope.cache.operation, db.system.name at span start,
// server.* and db.namespace (the database index given at connect), and on failure error.type and
// db.response.status_code (the Redis error prefix). Options are built once per operation.
import { createHash } from 'node:crypto';
import { Cluster } from 'ioredis';
import { SpanKind, SpanStatusCode, type Attributes, type Span, type SpanOptions } from '@opentelemetry/api';
import type { RedisClient } from './redis-client';

/** One kind of L2 call: the metric label (unchanged), the Redis command(s) and what it means for the cache. */
export interface L2Op {
  /** The `op` label of the L2 duration metric. */
  readonly label: string;
  /** `db.operation.name`. */
  readonly command: string;
  /** `periscope.cache.operation`. */
  readonly meaning: string;
  /** `db.stored_procedure.name`: the SHA1 of the Lua script run with EVAL. */
  readonly script?: string;
}

export const RENEW_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
export const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const sha1 = (script: string) => createHash('sha1').update(script).digest('hex');

export const OPS = {
  get: { label: 'GET', command: 'GET', meaning: 'get' },
  set: { label: 'SET', command: 'SET', meaning: 'set' },
  /** SET with tags: SET, SADD and PEXPIRE sent together. */
  setTagged: { label: 'SET', command: 'PIPELINE', meaning: 'set' },
  delete: { label: 'UNLINK', command: 'UNLINK', meaning: 'delete' },
  /** One UNLINK per key (a Cluster routes each to its slot), sent together. */
  deleteMany: { label: 'UNLINK', command: 'PIPELINE UNLINK', meaning: 'delete' },
  /** SMEMBERS per tag, then UNLINK of the keys and tag sets. */
  deleteByTag: { label: 'DELETE_BY_TAG', command: 'PIPELINE', meaning: 'delete_by_tag' },
  /** SCAN … MATCH, then UNLINK of what it found, per master. */
  clear: { label: 'CLEAR', command: 'PIPELINE', meaning: 'clear' },
  lock: { label: 'LOCK', command: 'SET', meaning: 'lock' },
  lockRenew: { label: 'LOCK_RENEW', command: 'EVAL', meaning: 'lock_renew', script: sha1(RENEW_SCRIPT) },
  lockRelease: { label: 'LOCK_RELEASE', command: 'EVAL', meaning: 'lock_release', script: sha1(RELEASE_SCRIPT) },
  publish: { label: 'PUBLISH', command: 'PUBLISH', meaning: 'publish' },
  spublish: { label: 'SPUBLISH', command: 'SPUBLISH', meaning: 'publish' },
  ping: { label: 'PING', command: 'PING', meaning: 'ping' },
} satisfies Record<string, L2Op>;

/** The span options of each operation on one tier, with the connection's fixed attributes. */
export class L2Spans {
  private readonly options = new Map<L2Op, SpanOptions>();
  private readonly fixed: Attributes;
  private readonly cluster: Cluster | undefined;

  constructor(client: RedisClient, namespace: string) {
    this.cluster = client instanceof Cluster ? client : undefined;
    this.fixed = {
      'db.system.name': 'redis',
      'periscope.cache.tier': 'l2',
      'periscope.cache.namespace': namespace,
      ...connectionAttributes(client),
    };
  }

  /** Options for tracer.startSpan: kind CLIENT and every attribute known before the call. */
  optionsFor(op: L2Op): SpanOptions {
    let options = this.options.get(op);
    if (!options) {
      const attributes: Attributes = {
        ...this.fixed,
        'db.operation.name': op.command,
        'periscope.cache.operation': op.meaning,
      };
      if (op.script) attributes['db.stored_procedure.name'] = op.script;
      options = { kind: SpanKind.CLIENT, attributes };
      this.options.set(op, options);
    }
    return options;
  }

  /** On a Cluster, the node that serves the key (its slot's master), once the span records. */
  node(span: Span, slot: number | undefined): void {
    if (!this.cluster || slot === undefined) return;
    const owner = this.cluster.slots[slot]?.[0];
    if (owner === undefined) return;
    const colon = owner.lastIndexOf(':');
    span.setAttribute('server.address', owner.slice(0, colon));
    span.setAttribute('server.port', Number(owner.slice(colon + 1)));
  }
}

/** server.* and db.namespace of a single node (not behind Sentinel, whose master may move); a Cluster uses index 0. */
function connectionAttributes(client: RedisClient): Attributes {
  if (client instanceof Cluster) return { 'db.namespace': '0' };
  const o = client.options;
  const attributes: Attributes = { 'db.namespace': String(o.db ?? 0) };
  if (!o.sentinels?.length && !o.path) {
    attributes['server.address'] = o.host ?? 'localhost';
    attributes['server.port'] = o.port ?? 6379;
  }
  return attributes;
}

/** The Redis simple-error prefix of a reply error ("WRONGTYPE", "ERR", "NOSCRIPT"), if it is one. */
export function redisErrorPrefix(err: unknown): string | undefined {
  const e = err as { name?: unknown; message?: unknown } | null;
  if (e?.name !== 'ReplyError' || typeof e.message !== 'string') return undefined;
  return /^[A-Z][A-Z0-9_-]*(?= |$)/.exec(e.message)?.[0];
}

/** Marks a failed L2 span: error.type (the error prefix, or `timeout`, or the error's class) and status. */
export function failSpan(span: Span, err: unknown, timedOut: boolean): void {
  if (span.isRecording()) {
    const prefix = redisErrorPrefix(err);
    if (prefix !== undefined) span.setAttribute('db.response.status_code', prefix);
    const type = prefix ?? (timedOut ? 'timeout' : err instanceof Error ? err.name : 'Error');
    span.setAttribute('error.type', type);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}
