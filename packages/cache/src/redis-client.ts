// Connections the cache owns: one node, a Redis Cluster, or a Sentinel-managed master, with the
// reconnect, timeout and shutdown behaviour every tier relies on.
import { Redis, Cluster, type RedisOptions } from 'ioredis';
import type { RedisTarget } from './redis-url';

export type RedisClient = Redis | Cluster;

/**
 * `socketTimeoutMs` is handed to ioredis for Cluster node connections only: a single node's
 * black-holed connection is replaced by the tier itself (RedisTier.replaceIfSilent), and
 * ioredis' own socket timer outlives disconnect() when commands were pending, which would keep
 * the process alive after close().
 */
export function ownedRedisOptions(
  reconnectMaxDelayMs: number,
  socketTimeoutMs: number | undefined = undefined,
): RedisOptions {
  return {
    // A connection that takes commands but answers nothing (black-holed) is destroyed after this
    // long and replaced, so L2 comes back on its own once the network does.
    socketTimeout: socketTimeoutMs,
    // No auto-pipelining: it defers every write to a later tick, which costs a sequential caller
    // more than batching saves; concurrent commands still pipeline on the socket.
    enableAutoPipelining: false,
    // A request waits through at most one reconnection; our own timeout bounds it anyway.
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // After close, a socket whose peer never finishes the FIN handshake is destroyed this soon.
    disconnectTimeout: 200,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), reconnectMaxDelayMs),
  };
}

/**
 * Drops a connection we own and waits (at most `boundMs`) for it to end. No QUIT: every write
 * was awaited before, and a command sent now would leave ioredis' socket timer running past close.
 */
export function closeClient(client: RedisClient, boundMs = 250): Promise<void> {
  if (client.status === 'end') return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('end', done);
      resolve();
    };
    const timer = setTimeout(done, boundMs);
    client.once('end', done);
    client.disconnect();
  });
}

/** A new connection (or Cluster / Sentinel client) to the target; the caller owns it. */
export function createRedisClient(
  target: RedisTarget,
  reconnectMaxDelayMs: number,
  socketTimeoutMs: number,
  shardedSubscribers = false,
): RedisClient {
  const owned = ownedRedisOptions(reconnectMaxDelayMs);
  switch (target.kind) {
    case 'single':
      return new Redis(target.url, owned);
    case 'cluster':
      return new Cluster(target.nodes, {
        redisOptions: {
          ...ownedRedisOptions(reconnectMaxDelayMs, socketTimeoutMs),
          username: target.username,
          password: target.password,
          tls: target.tls ? {} : undefined,
        },
        clusterRetryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), reconnectMaxDelayMs),
        slotsRefreshTimeout: 1000,
        // Also learn about failovers nobody told us about (the tier asks at once on failures).
        slotsRefreshInterval: 5000,
        enableAutoPipelining: false,
        retryDelayOnMoved: 0,
        retryDelayOnFailover: 50,
        maxRedirections: 4,
        shardedSubscribers,
      });
    case 'sentinel':
      return new Redis({
        ...owned,
        sentinels: target.sentinels,
        name: target.name,
        username: target.username,
        password: target.password,
        sentinelPassword: target.sentinelPassword,
        db: target.db,
        tls: target.tls ? {} : undefined,
        enableTLSForSentinelMode: target.tls,
        sentinelRetryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), reconnectMaxDelayMs),
      });
  }
}
