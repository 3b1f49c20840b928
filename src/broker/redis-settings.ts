import type { HistoryPolicies } from '../config/history-policy';
import type { Logger } from '../log/logger';
import type { ServerStats } from '../stats';

/** What both Redis brokers (one Redis, a Redis Cluster) take from the server. */
export interface RedisBrokerSettings {
  /** Prefix of every Redis key and channel name (no braces on a cluster). */
  prefix: string;
  /** Process logger. */
  logger: Logger;
  /** History size and ttl of each channel. */
  policies: HistoryPolicies;
  /** Seconds offset counters and epochs live after a channel's last publication. */
  metaTtl: number;
  /** Milliseconds between probes (a PING on each connection; on a cluster, an SPUBLISH through each shard). */
  probeInterval: number;
  /** Milliseconds a probe may go unanswered before the connection is reopened (on a cluster: the shard counts as unreachable). */
  probeTimeout: number;
  /** Process counters. */
  stats: ServerStats;
  /** Seconds the result of a publish with an idempotency key is kept (`--idempotency-ttl`; default 300). */
  idempotencyTtl?: number;
}

/** Reconnect delay of a Redis connection (of the whole cluster connection): 50 ms doubling up to 2 s, forever. */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2000);
}
