import calculateSlot = require('cluster-key-slot');

/** Number of hash slots in a Redis Cluster. */
export const SLOT_COUNT = 16384;

/** The Redis Cluster hash slot (0-16383) of a key or shard channel: CRC16 of its first non-empty `{tag}`, else of the whole name. */
export function keySlot(key: string | Buffer): number {
  return calculateSlot(key);
}
