// Distributed L1 invalidation over Redis pub/sub. Messages are versioned JSON:
// { v, origin, seq, op, namespace, keys | tags }. An instance ignores its own messages; a gap in
// another origin's sequence or a reconnect of the subscriber (messages may have been missed)
// makes it purge its L1, since stale L1 across instances is the failure this bus exists to stop.
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-tier';
import { ownedRedisOptions } from './redis-tier';
import type { CacheCounters } from './instruments';

export const BUS_VERSION = 1;

export type BusOp = 'set' | 'delete' | 'deleteByTag' | 'clear';

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

export class InvalidationBus {
  readonly origin = randomUUID();
  private seq = 0;
  private readonly sub: RedisClient;
  private readonly lastSeq = new Map<string, number>();
  private subscribedOnce = false;
  private closed = false;

  constructor(
    private readonly namespace: string,
    private readonly channel: string,
    source: { url?: string; client?: RedisClient },
    reconnect: { reconnectMaxDelayMs: number; socketTimeoutMs: number },
    private readonly publishRaw: (message: string) => Promise<void>,
    private readonly handlers: BusHandlers,
    private readonly counters: CacheCounters,
  ) {
    // A subscribed connection can run nothing else, so the bus always has its own.
    this.sub = source.client
      ? source.client.duplicate()
      : new Redis(source.url!, ownedRedisOptions(reconnect.reconnectMaxDelayMs, reconnect.socketTimeoutMs));
    this.sub.on('error', () => undefined); // counted by the data connection; reconnects on its own
    this.sub.on('ready', () => {
      if (this.closed) return;
      // ioredis resubscribes on reconnect; anything published in between was lost.
      if (this.subscribedOnce) this.purge('reconnect');
      // A SUBSCRIBE that failed (Redis down at start) is not replayed by ioredis: send it again.
      else this.subscribe();
    });
    this.sub.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.receive(text);
    });
    this.subscribe();
  }

  private subscribe(): void {
    this.sub.subscribe(this.channel).then(
      () => {
        this.subscribedOnce = true;
      },
      () => undefined,
    );
  }

  async publish(op: BusOp, payload: { keys?: string[]; tags?: string[] } = {}): Promise<void> {
    const message: BusMessage = {
      v: BUS_VERSION,
      origin: this.origin,
      seq: ++this.seq,
      op,
      namespace: this.namespace,
      ...payload,
    };
    try {
      await this.publishRaw(JSON.stringify(message));
      this.counters.busEvent('published');
    } catch {
      // L2 is down: peers cannot hear us, and their subscriber reconnect will purge their L1.
    }
  }

  private receive(text: string): void {
    let msg: BusMessage;
    try {
      msg = JSON.parse(text) as BusMessage;
    } catch {
      return;
    }
    if (msg.v !== BUS_VERSION || msg.namespace !== this.namespace) return;
    if (msg.origin === this.origin) {
      this.counters.busEvent('ignored_own');
      return;
    }
    this.counters.busEvent('received');
    const last = this.lastSeq.get(msg.origin);
    this.lastSeq.delete(msg.origin);
    this.lastSeq.set(msg.origin, msg.seq);
    // Origins come and go with restarts: remember the most recently heard ones only.
    if (this.lastSeq.size > 1024) this.lastSeq.delete(this.lastSeq.keys().next().value!);
    // A publish can fail while L2 is down, so a gap is normal after an outage: purge to be safe.
    if (last !== undefined && msg.seq !== last + 1) this.purge('gap');
    switch (msg.op) {
      case 'set':
      case 'delete':
        if (Array.isArray(msg.keys)) this.handlers.onKeys(msg.keys);
        break;
      case 'deleteByTag':
        if (Array.isArray(msg.tags)) this.handlers.onTags(msg.tags);
        break;
      case 'clear':
        this.handlers.onClear();
        break;
    }
  }

  private purge(reason: 'reconnect' | 'gap'): void {
    this.counters.busEvent('purge');
    this.handlers.onPurge(reason);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await Promise.race([this.sub.quit(), new Promise((r) => setTimeout(r, 200).unref())]);
    } catch {
      // already disconnected
    }
    this.sub.disconnect();
  }
}
