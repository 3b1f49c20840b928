import type { Options } from '../config/options';
import type { Logger } from '../log/logger';
import type { Broker } from './broker';
import { MemoryBroker } from './memory-broker';
import { RedisBroker } from './redis-broker';

/** Picks the broker the options ask for: Redis when `redisUrl` is set, else the in-memory one. */
export function createBroker(options: Readonly<Options>, logger: Logger): Broker {
  if (options.redisUrl === null) return new MemoryBroker();
  return new RedisBroker({ url: options.redisUrl, prefix: options.redisPrefix, logger });
}
