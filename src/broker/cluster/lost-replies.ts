import Redis, { type Cluster } from 'ioredis';

/** ioredis's message for a command failed because its connection closed (the Cluster retries those). */
const CONNECTION_CLOSED = 'Connection is closed.';

/** What a node connection's queue flush takes (ioredis `Redis#flushQueue`, private in its types). */
type FlushQueue = (error: Error, options?: { offlineQueue?: boolean; commandQueue?: boolean }) => void;

if (typeof (Redis.prototype as unknown as { flushQueue?: unknown }).flushQueue !== 'function') {
  throw new Error('ioredis no longer has Redis#flushQueue: update src/broker/cluster/lost-replies.ts for this ioredis version');
}

/**
 * Makes `cluster` fail, instead of sending again, every command whose reply a closed node
 * connection lost. ioredis fails the commands of a closed node connection with "Connection is
 * closed." and the Cluster sends those again after `retryDelayOnFailover`: right for a command
 * still in the node's offline queue (never written, it cannot have run), wrong for one written and
 * unanswered: it may have run, and a history script run twice stores and fans out its publication
 * twice under two offsets. Here the written ones fail with a message of their own, which the
 * Cluster does not retry; the offline ones keep ioredis's retries, as do MOVED, ASK, TRYAGAIN and
 * CLUSTERDOWN answers (the command did not run). Call it before the cluster connects.
 */
export function failLostReplies(cluster: Cluster): void {
  cluster.on('+node', (redis: Redis) => {
    const node = redis as unknown as { flushQueue: FlushQueue };
    const flush = node.flushQueue;
    const where = `${redis.options.host}:${redis.options.port}`;
    node.flushQueue = function (this: Redis, error, options) {
      if (error.message !== CONNECTION_CLOSED) return flush.call(this, error, options);
      if (options?.offlineQueue !== false) flush.call(this, error, { offlineQueue: true, commandQueue: false });
      if (options?.commandQueue !== false) {
        const lost = new Error(`the Redis Cluster connection to ${where} closed before answering (a publication may or may not have been made)`);
        flush.call(this, lost, { offlineQueue: false, commandQueue: true });
      }
    };
  });
}
