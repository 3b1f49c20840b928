import Redis from 'ioredis';
import type { Options } from '../config/options';
import { MemoryPresenceStore } from './memory-presence-store';
import type { PresenceStore } from './presence-store';
import { RedisPresenceStore } from './redis-presence-store';

/** The presence store the options ask for: Redis (two connections of its own) with `redisUrl`, else memory. */
export function createPresenceStore(options: Readonly<Options>): PresenceStore {
  const ttl = options.presenceTtl * 1000;
  if (options.redisUrl === null) return new MemoryPresenceStore(ttl);
  const connect = (name: string): Redis => new Redis(options.redisUrl as string, { connectionName: `broadcaster-presence-${name}`, maxRetriesPerRequest: 2 });
  return new RedisPresenceStore({ command: connect('command'), subscriber: connect('subscriber'), prefix: options.redisPrefix, ttl });
}
