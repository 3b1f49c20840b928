import type { HistoryPolicies } from '../config/history-policy';
import type { Options } from '../config/options';
import type { Logger } from '../log/logger';
import type { ServerStats } from '../stats';
import type { Broker } from './broker';
import { MemoryBroker } from './memory-broker';
import { RedisBroker } from './redis-broker';

/**
 * Picks the broker the options ask for: Redis when `redisUrl` is set, else the in-memory one.
 * `policies` is the server's one HistoryPolicies, shared with the HTTP API and recovery.
 */
export function createBroker(options: Readonly<Options>, policies: HistoryPolicies, logger: Logger, stats: ServerStats): Broker {
  if (options.redisUrl === null) return new MemoryBroker(policies, options.historyMetaTtl, options.memoryBatchMs);
  return new RedisBroker({
    url: options.redisUrl,
    prefix: options.redisPrefix,
    logger,
    policies,
    metaTtl: options.historyMetaTtl,
    probeInterval: options.redisProbeInterval,
    probeTimeout: options.redisProbeTimeout,
    stats,
  });
}
