import type { FanoutCommand } from './redis-scripts';

/**
 * Where one channel lives in Redis: its history stream, meta hash, idempotency keys and fan-out
 * channel, and the command that fans out. One Redis uses the prefix names below; a Redis Cluster
 * the same names with the channel's partition tag (`ClusterKeys`), fanned out with SPUBLISH.
 */
export interface StreamNames {
  /** PUBLISH on one Redis, SPUBLISH on a cluster. */
  readonly fanoutCommand: FanoutCommand;
  /** The history stream key of `channel`. */
  stream(channel: string): string;
  /** The meta hash key (latest offset, epoch) of `channel`. */
  meta(channel: string): string;
  /** The key holding the result of the first publish with idempotency key `key` on `channel`. */
  idempotency(channel: string, key: string): string;
  /** The pub/sub channel `channel`'s publications travel on. */
  fanout(channel: string): string;
}

/** The names on one Redis: `<prefix>h:<channel>`, `<prefix>m:<channel>`, `<prefix>i:<channel>/<key>`, PUBLISH on `<prefix><channel>`. */
export function prefixNames(prefix: string): StreamNames {
  return {
    fanoutCommand: 'PUBLISH',
    stream: (channel) => `${prefix}h:${channel}`,
    meta: (channel) => `${prefix}m:${channel}`,
    idempotency: (channel, key) => `${prefix}i:${channel}/${key}`,
    fanout: (channel) => prefix + channel,
  };
}
