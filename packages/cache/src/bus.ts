// Distributed L1 invalidation over Redis pub/sub. Messages are versioned JSON:
// { v, origin, seq, op, namespace, keys | tags }. An instance ignores its own messages. On a
// Redis Cluster the bus uses sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7): one channel lives on
// one shard, so one sender's messages arrive in order, as on a single node. A message older than
// the last one heard from its sender is applied (its keys are dropped, which is always safe) but
// never moves the sequence backwards; a real gap (a sequence skipped) or a reconnect of the
// subscriber (messages may have been missed) purges L1. Anything received that is not a
// well-formed message is ignored and counted: nothing from Redis can throw out of a handler.
import { Cluster } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { closeClient, createRedisClient, type RedisClient } from './redis-client';
import type { CacheCounters } from './instrumentation';
import type { RedisTarget } from './redis-url';

export const BUS_VERSION = 1;
/** Bigger messages are not ours: publish() splits long key lists into messages below this. */
export const MAX_BUS_MESSAGE_BYTES = 256 * 1024;
const MAX_ORIGINS = 1024;

export type BusOp = 'set' | 'delete' | 'deleteByTag' | 'clear';
const OPS: ReadonlySet<string> = new Set<BusOp>(['set', 'delete', 'deleteByTag', 'clear']);

export interface BusMessage {
  v: number;
  origin: string;
  seq: number;
  op: BusOp;
  namespace: string;
  keys?: string[];
  tags?: string[];
}

export interface BusHandlers {
  /** Keys changed or deleted elsewhere: drop local copies. */
  onKeys(keys: string[]): void;
  onTags(tags: string[]): void;
  onClear(): void;
  /** Messages may have been missed: drop all of L1. */
  onPurge(reason: 'reconnect' | 'gap'): void;
}

/**
 * The message, or undefined when the text is not a well-formed bus message of this namespace:
 * wrong JSON, null, arrays, missing or mistyped fields, unknown op, oversize. Never throws.
 */
export function parseBusMessage(text: unknown, namespace: string): BusMessage | undefined {
  if (typeof text !== 'string' || text.length > MAX_BUS_MESSAGE_BYTES) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return undefined;
  const x = m as Record<string, unknown>;
  if (x.v !== BUS_VERSION || x.namespace !== namespace) return undefined;
  if (typeof x.origin !== 'string' || x.origin === '' || x.origin.length > 128) return undefined;
  if (typeof x.seq !== 'number' || !Number.isSafeInteger(x.seq) || x.seq < 1) return undefined;
  if (typeof x.op !== 'string' || !OPS.has(x.op)) return undefined;
  const op = x.op as BusOp;
  const out: BusMessage = { v: BUS_VERSION, origin: x.origin, seq: x.seq, op, namespace };
  if (op === 'set' || op === 'delete') {
    if (!isStringList(x.keys)) return undefined;
    out.keys = x.keys;
  } else if (op === 'deleteByTag') {
    if (!isStringList(x.tags)) return undefined;
    out.tags = x.tags;
  }
  return out;
}

/** A quick upper bound of a list's JSON size (an escape takes at most 6 bytes per character). */
function listBytes(list: readonly string[]): number {
  let n = 0;
  for (const s of list) n += 6 * s.length + 3;
  return n;
}

function jsonBytes(item: string): number {
  return Buffer.byteLength(JSON.stringify(item)) + 1;
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '');
}

export interface BusOptions {
  namespace: string;
  channel: string;
  source: { target?: RedisTarget; client?: RedisClient };
  reconnect: { reconnectMaxDelayMs: number; socketTimeoutMs: number };
  /** Publishes on the data connection (PUBLISH, or SPUBLISH on a Cluster). */
  publishRaw: (message: string) => Promise<void>;
  handlers: BusHandlers;
  counters: CacheCounters;
}

export class InvalidationBus {
  readonly origin = randomUUID();
  private seq = 0;
  private readonly sub: RedisClient;
  private readonly sharded: boolean;
  private readonly lastSeq = new Map<string, number>();
  private subscribedOnce = false;
  private closed = false;

  constructor(private readonly o: BusOptions) {
    const { source, reconnect } = o;
    this.sharded = source.client instanceof Cluster || source.target?.kind === 'cluster';
    // A subscribed connection can run nothing else, so the bus always has its own.
    this.sub = source.client
      ? duplicateForBus(source.client)
      : createRedisClient(source.target!, reconnect.reconnectMaxDelayMs, reconnect.socketTimeoutMs, this.sharded);
    this.sub.on('error', () => undefined); // counted by the data connection; reconnects on its own
    const onMessage = (channel: unknown, text: unknown) => {
      if (channel === o.channel) this.receive(text);
    };
    if (this.sharded) {
      this.sub.on('smessage', onMessage);
      // A shard's subscriber was lost (failover, cut): messages may have been missed.
      this.sub.on('-subscriber', () => this.purge('reconnect'));
    } else this.sub.on('message', onMessage);
    this.sub.on('ready', () => {
      if (this.closed) return;
      // ioredis resubscribes on reconnect; anything published in between was lost.
      if (this.subscribedOnce) this.purge('reconnect');
      // A SUBSCRIBE that failed (Redis down at start) is not replayed by ioredis: send it again.
      else this.subscribe();
    });
    this.subscribe();
  }

  private subscribe(): void {
    const p = this.sharded ? (this.sub as Cluster).ssubscribe(this.o.channel) : this.sub.subscribe(this.o.channel);
    p.then(
      () => {
        this.subscribedOnce = true;
      },
      () => undefined, // retried on the next 'ready'
    );
  }

  /** One message per op; a key or tag list too long for one message goes out in several. */
  async publish(op: BusOp, payload: { keys?: string[]; tags?: string[] } = {}): Promise<void> {
    const list = payload.keys ?? payload.tags;
    if (list === undefined || list.length < 2 || listBytes(list) < MAX_BUS_MESSAGE_BYTES / 2) {
      return this.publishOne(op, payload);
    }
    const field = payload.keys ? 'keys' : 'tags';
    let chunk: string[] = [];
    let bytes = 0;
    for (const item of list) {
      const size = jsonBytes(item);
      if (chunk.length > 0 && bytes + size > MAX_BUS_MESSAGE_BYTES / 2) {
        await this.publishOne(op, { [field]: chunk });
        chunk = [];
        bytes = 0;
      }
      chunk.push(item);
      bytes += size;
    }
    await this.publishOne(op, { [field]: chunk });
  }

  private async publishOne(op: BusOp, payload: { keys?: string[]; tags?: string[] }): Promise<void> {
    const message: BusMessage = {
      v: BUS_VERSION,
      origin: this.origin,
      seq: ++this.seq,
      op,
      namespace: this.o.namespace,
      ...payload,
    };
    try {
      await this.o.publishRaw(JSON.stringify(message));
      this.o.counters.busEvent('published');
    } catch {
      // L2 is down (the tier counted it): peers see the gap in our sequence and purge.
      this.o.counters.busEvent('publish_failed');
    }
  }

  /** Everything received goes through here; it never throws. */
  receive(text: unknown): void {
    try {
      const msg = parseBusMessage(
        typeof text === 'string' ? text : Buffer.isBuffer(text) ? text.toString() : text,
        this.o.namespace,
      );
      if (msg === undefined) {
        this.o.counters.busEvent('malformed');
        return;
      }
      this.apply(msg);
    } catch {
      this.o.counters.busEvent('handler_error');
    }
  }

  private apply(msg: BusMessage): void {
    if (msg.origin === this.origin) {
      this.o.counters.busEvent('ignored_own');
      return;
    }
    this.o.counters.busEvent('received');
    const last = this.lastSeq.get(msg.origin);
    if (last === undefined || msg.seq > last) {
      this.lastSeq.delete(msg.origin);
      this.lastSeq.set(msg.origin, msg.seq);
      // Origins come and go with restarts: remember the most recently heard ones only.
      if (this.lastSeq.size > MAX_ORIGINS) this.lastSeq.delete(this.lastSeq.keys().next().value!);
      // A skipped sequence number is a message we will never see: purge to be safe.
      if (last !== undefined && msg.seq !== last + 1) this.purge('gap');
    }
    switch (msg.op) {
      case 'set':
      case 'delete':
        this.o.handlers.onKeys(msg.keys!);
        break;
      case 'deleteByTag':
        this.o.handlers.onTags(msg.tags!);
        break;
      case 'clear':
        this.o.handlers.onClear();
        break;
    }
  }

  private purge(reason: 'reconnect' | 'gap'): void {
    this.o.counters.busEvent('purge');
    this.o.handlers.onPurge(reason);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closeClient(this.sub);
  }
}

/** A subscriber connection like the caller's client (a sharded-subscriber Cluster for a Cluster). */
function duplicateForBus(client: RedisClient): RedisClient {
  if (client instanceof Cluster) return client.duplicate(undefined, { shardedSubscribers: true });
  return client.duplicate();
}
