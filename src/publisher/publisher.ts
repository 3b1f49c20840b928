import Redis, { Cluster } from 'ioredis';
import type { PublishOptions, PublishResult } from '../broker/broker';
import { ClusterKeys } from '../broker/cluster/cluster-keys';
import { failLostReplies } from '../broker/cluster/lost-replies';
import { evenSlotTags } from '../broker/cluster/partition-tags';
import { RedisStreams } from '../broker/redis-streams';
import { clusterNode } from '../config/cluster-nodes';
import { HistoryPolicies } from '../config/history-policy';
import { defaultOptions } from '../config/options';
import { channelNameProblem } from '../protocol/channel-name';
import { idempotencyKeyProblem } from '../protocol/idempotency-key';

/** Settings of a Node publisher; history settings must match the servers' options. */
export interface PublisherOptions {
  /** Redis URL the servers use (their --redis-url). Give this or `redisClusterNodes`. */
  redisUrl?: string;
  /** Redis Cluster startup nodes, `host:port` (the servers' --redis-cluster-nodes). */
  redisClusterNodes?: string[];
  /** Partitions on the cluster (their --redis-cluster-partitions). Default 64. */
  redisClusterPartitions?: number;
  /** Channel prefix the servers use (their --redis-prefix). Default "bc:". */
  prefix?: string;
  /** Publications kept per channel (their --history-size). Default 100; 0 publishes without offsets. */
  historySize?: number;
  /** Seconds history lives (their --history-ttl). Default 300. */
  historyTtl?: number;
  /** Seconds offsets and epochs live (their --history-meta-ttl). Default 86400. */
  historyMetaTtl?: number;
  /** Per-namespace history (their --history-namespaces). Default none. */
  historyNamespaces?: string;
  /** Seconds the result of a publish with an idempotency key is kept (their --idempotency-ttl). Default 300. */
  idempotencyTtl?: number;
}

/** One publication of a batch. */
export interface BatchPublication {
  /** Channel name. */
  channel: string;
  /** Data (bytes arrive as msgpack bin, strings as str). */
  data: Uint8Array | string;
  /** Publish at most once per key and channel within the idempotency ttl (see `publish`). */
  idempotencyKey?: string;
}

/** The outcome of one publication of a batch: its position (null without history) and whether it repeated an idempotency key, or why it failed. */
export type BatchOutcome = ({ ok: true } & PublishResult) | { ok: false; error: Error };

/** Why `options` are refused (an idempotency key breaking the key syntax), or null. */
function optionsProblem(options: PublishOptions | undefined): string | null {
  if (options?.idempotencyKey === undefined) return null;
  const problem = idempotencyKeyProblem(options.idempotencyKey);
  return problem === null ? null : `invalid idempotency key ${JSON.stringify(options.idempotencyKey)}: ${problem}`;
}

/**
 * Publishes to broadcaster channels from a Node backend, straight to Redis or a Redis Cluster:
 * with history the offset, history write and (S)PUBLISH happen in the same Lua script the servers use.
 */
export class Publisher {
  private readonly redis: Redis | Cluster;
  private readonly streams: RedisStreams;

  constructor(options: PublisherOptions) {
    const defaults = defaultOptions();
    const policies = new HistoryPolicies({
      historySize: options.historySize ?? defaults.historySize,
      historyTtl: options.historyTtl ?? defaults.historyTtl,
      historyNamespaces: options.historyNamespaces ?? defaults.historyNamespaces,
    });
    const prefix = options.prefix ?? defaults.redisPrefix;
    const metaTtl = options.historyMetaTtl ?? defaults.historyMetaTtl;
    const idempotencyTtl = options.idempotencyTtl ?? defaults.idempotencyTtl;
    const nodes = options.redisClusterNodes ?? [];
    if ((options.redisUrl === undefined) === (nodes.length === 0)) {
      throw new TypeError(
        'give the Publisher either redisUrl (one Redis) or redisClusterNodes (a Redis Cluster), as the servers have --redis-url or --redis-cluster-nodes',
      );
    }
    if (options.redisUrl !== undefined) {
      // A command unanswered when the connection drops may have run: RedisStreams fails it, and it is not sent again.
      const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 3, autoResendUnfulfilledCommands: false });
      this.redis = redis;
      this.streams = new RedisStreams(redis, prefix, policies, metaTtl, idempotencyTtl);
      return;
    }
    const parsed = nodes.map((item) => {
      const node = clusterNode(item);
      if (node === null) throw new TypeError(`invalid redisClusterNodes entry ${JSON.stringify(item)}: use host:port`);
      return node;
    });
    const cluster = new Cluster(parsed, { redisOptions: { maxRetriesPerRequest: 3 } });
    failLostReplies(cluster);
    this.redis = cluster;
    const keys = new ClusterKeys(prefix, evenSlotTags(options.redisClusterPartitions ?? defaults.redisClusterPartitions));
    this.streams = new RedisStreams(cluster, keys, policies, metaTtl, idempotencyTtl);
  }

  /**
   * Publishes `data` (bytes arrive as msgpack bin, strings as str); resolves with its position
   * (null without history). With `options.idempotencyKey` (1-128 characters from
   * A-Z a-z 0-9 _ . : @ = + / -) the channel gets at most one publication per key within the
   * idempotency ttl: a repeat publishes nothing and resolves with the first result and
   * `repeated: true`, so an ambiguous failure ("may or may not have been made") can be retried.
   */
  async publish(channel: string, data: Uint8Array | string, options?: PublishOptions): Promise<PublishResult> {
    const problem = channelNameProblem(channel);
    if (problem !== null) throw new TypeError(`invalid channel ${JSON.stringify(channel)}: ${problem}`);
    const refused = optionsProblem(options);
    if (refused !== null) throw new TypeError(refused);
    return this.streams.publish(channel, data, options);
  }

  /**
   * Publishes many publications to one or many channels: per channel, in order, one Lua script
   * call for all of them (consecutive offsets, each stored and fanned out with its own). Resolves
   * with one outcome per publication, in the given order; an invalid channel or idempotency key
   * fails its items only. Items with an `idempotencyKey` behave as in `publish`.
   */
  async publishBatch(publications: readonly BatchPublication[]): Promise<BatchOutcome[]> {
    const outcomes = new Array<BatchOutcome>(publications.length);
    const byChannel = new Map<string, number[]>();
    publications.forEach(({ channel, idempotencyKey }, index) => {
      const problem = channelNameProblem(channel);
      const refused = problem === null ? optionsProblem({ idempotencyKey }) : `invalid channel ${JSON.stringify(channel)}: ${problem}`;
      if (refused !== null) {
        outcomes[index] = { ok: false, error: new TypeError(refused) };
        return;
      }
      const list = byChannel.get(channel);
      if (list === undefined) byChannel.set(channel, [index]);
      else list.push(index);
    });
    await Promise.all(
      [...byChannel].map(async ([channel, indexes]) => {
        try {
          const results = await this.streams.publishMany(
            channel,
            indexes.map((i) => publications[i]!.data),
            indexes.map((i) => ({ idempotencyKey: publications[i]!.idempotencyKey })),
          );
          indexes.forEach((i, k) => {
            outcomes[i] = { ok: true, ...results[k]! };
          });
        } catch (err) {
          for (const i of indexes) outcomes[i] = { ok: false, error: err as Error };
        }
      }),
    );
    return outcomes;
  }

  /** Closes the Redis connection after pending publishes are sent. */
  async close(): Promise<void> {
    await this.redis.quit();
  }
}
