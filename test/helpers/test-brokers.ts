import { RedisBroker, type RedisBrokerOptions } from '../../src/broker/redis-broker';
import { RedisClusterBroker, type RedisClusterBrokerOptions } from '../../src/broker/redis-cluster-broker';
import type { HistoryPolicies } from '../../src/config/history-policy';
import { createLogger } from '../../src/log/logger';
import { createStats } from '../../src/stats';
import type { TestRedisCluster } from './redis-cluster';

/** A Redis broker as the contract and fault tests use it (silent, meta ttl 1 h, PING every second); `extra` overrides. */
export function testRedisBroker(url: string, prefix: string, policies: HistoryPolicies, extra: Partial<RedisBrokerOptions> = {}): RedisBroker {
  return new RedisBroker({
    url,
    prefix,
    logger: createLogger('silent'),
    policies,
    metaTtl: 3600,
    probeInterval: 1000,
    probeTimeout: 3000,
    stats: createStats(),
    ...extra,
  });
}

/** A Redis Cluster broker on a test cluster (16 partitions, silent, meta ttl 1 h, shard probes every 200 ms); `extra` overrides. */
export function testClusterBroker(
  cluster: TestRedisCluster,
  prefix: string,
  policies: HistoryPolicies,
  extra: Partial<RedisClusterBrokerOptions> = {},
): RedisClusterBroker {
  return new RedisClusterBroker({
    nodes: cluster.startupNodes,
    partitions: 16,
    prefix,
    logger: createLogger('silent'),
    policies,
    metaTtl: 3600,
    probeInterval: 200,
    probeTimeout: 3000,
    stats: createStats(),
    ...extra,
  });
}
