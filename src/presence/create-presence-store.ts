import Redis, { Cluster } from 'ioredis';
import { clusterNode } from '../config/cluster-nodes';
import type { Options } from '../config/options';
import { reconnectDelay } from '../broker/redis-settings';
import { MemoryPresenceStore } from './memory-presence-store';
import type { PresenceStore } from './presence-store';
import { RedisPresenceStore } from './redis-presence-store';

/**
 * The presence store the options ask for: Redis with `redisUrl`, a Redis Cluster with
 * `redisClusterNodes` (every key of a channel shares one hash tag, so each script runs on one
 * shard; join/leave batches travel by SPUBLISH), each with two connections of its own; else memory.
 */
export function createPresenceStore(options: Readonly<Options>): PresenceStore {
  const ttl = options.presenceTtl * 1000;
  if (options.redisClusterNodes.length > 0) {
    const nodes = options.redisClusterNodes.map((item) => clusterNode(item)!);
    const command = new Cluster(nodes, { redisOptions: { connectionName: 'broadcaster-presence-command', maxRetriesPerRequest: 2 } });
    const subscriber = new Cluster(nodes, { shardedSubscribers: true, redisOptions: { connectionName: 'broadcaster-presence-subscriber' } });
    // A Cluster emits 'error' for every failed node attempt during a failover; a failure reaches
    // the presence service as a refused script call (answered 503 and logged there).
    for (const conn of [command, subscriber]) conn.on('error', () => {});
    return new RedisPresenceStore({
      command,
      subscriber,
      prefix: options.redisPrefix,
      ttl,
    });
  }
  if (options.redisUrl === null) return new MemoryPresenceStore(ttl);
  const connect = (name: string): Redis => {
    const conn = new Redis(options.redisUrl as string, {
      connectionName: `broadcaster-presence-${name}`,
      maxRetriesPerRequest: 1,
      retryStrategy: reconnectDelay,
    });
    // Commands made before the first connection wait for it; once connected, a command made
    // while Redis is unreachable fails at once (a presence read answers 503, a write is retried by
    // the service a second later) instead of waiting through reconnect attempts.
    conn.once('ready', () => {
      conn.options.enableOfflineQueue = false;
    });
    return conn;
  };
  return new RedisPresenceStore({ command: connect('command'), subscriber: connect('subscriber'), prefix: options.redisPrefix, ttl });
}
