import type { HistoryPolicies } from '../config/history-policy';
import type { Options } from '../config/options';
import type { Logger } from '../log/logger';
import type { ServerStats } from '../stats';
import type { Broker } from './broker';
import { MemoryBroker } from './memory-broker';
import { clusterNode } from '../config/cluster-nodes';
import { RedisBroker } from './redis-broker';
import { RedisClusterBroker } from './redis-cluster-broker';
import type { RedisBrokerSettings } from './redis-settings';

/**
 * Picks the broker the options ask for: Redis Cluster when `redisClusterNodes` is set, Redis when
 * `redisUrl` is set, else the in-memory one.
 * `policies` is the server's one HistoryPolicies, shared with the HTTP API and recovery.
 */
export function createBroker(options: Readonly<Options>, policies: HistoryPolicies, logger: Logger, stats: ServerStats): Broker {
  // What both Redis brokers take from the options.
  const redis: RedisBrokerSettings = {
    prefix: options.redisPrefix,
    logger,
    policies,
    metaTtl: options.historyMetaTtl,
    probeInterval: options.redisProbeInterval,
    probeTimeout: options.redisProbeTimeout,
    stats,
    idempotencyTtl: options.idempotencyTtl,
  };
  if (options.redisClusterNodes.length > 0) {
    return new RedisClusterBroker({ ...redis, nodes: options.redisClusterNodes.map((item) => clusterNode(item)!), partitions: options.redisClusterPartitions });
  }
  if (options.redisUrl === null) return new MemoryBroker(policies, options.historyMetaTtl, options.memoryBatchMs, options.idempotencyTtl);
  return new RedisBroker({ ...redis, url: options.redisUrl });
}
