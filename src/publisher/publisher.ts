import Redis from 'ioredis';
import { channelNameProblem } from '../protocol/channel-name';
import { encodeEnvelope } from '../protocol/envelope';

/** Settings of a Node publisher. */
export interface PublisherOptions {
  /** Redis URL the servers use (their --redis-url). */
  redisUrl: string;
  /** Channel prefix the servers use (their --redis-prefix). Default "bc:". */
  prefix?: string;
}

/**
 * Publishes to broadcaster channels from a Node backend by writing the documented envelope
 * straight to Redis; no broadcaster process is involved in the call.
 */
export class Publisher {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(options: PublisherOptions) {
    this.prefix = options.prefix ?? 'bc:';
    this.redis = new Redis(options.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  }

  /** Publishes `data` (bytes delivered as msgpack bin, strings as str) and resolves with the number of receiving processes. */
  async publish(channel: string, data: Uint8Array | string): Promise<number> {
    const problem = channelNameProblem(channel);
    if (problem !== null) throw new TypeError(`invalid channel ${JSON.stringify(channel)}: ${problem}`);
    return this.redis.publish(this.prefix + channel, encodeEnvelope(data));
  }

  /** Closes the Redis connection after pending publishes are sent. */
  async close(): Promise<void> {
    await this.redis.quit();
  }
}
