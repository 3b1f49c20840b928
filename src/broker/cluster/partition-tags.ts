import { keySlot, SLOT_COUNT } from './key-slot';
import type { SlotMap } from './slot-map';

/** Most partitions a cluster broker may use: one slot each. */
export const MAX_PARTITIONS = SLOT_COUNT;

let tagBySlot: string[] | null = null;

/**
 * For every slot, the first base-36 counter (`0`, `1`, … `a`, … `10`, …) whose CRC16 lands on it:
 * the shortest hash tag for that slot, the same in every process and release.
 */
export function slotTags(): readonly string[] {
  if (tagBySlot !== null) return tagBySlot;
  const table = new Array<string>(SLOT_COUNT);
  let found = 0;
  for (let counter = 0; found < SLOT_COUNT; counter++) {
    const tag = counter.toString(36);
    const slot = keySlot(tag);
    if (table[slot] === undefined) {
      table[slot] = tag;
      found++;
    }
  }
  tagBySlot = table;
  return table;
}

/** Checks a partition count: an integer 1-16384. */
export function checkPartitions(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new Error(`the partition count must be an integer 1-${MAX_PARTITIONS}, got ${partitions}`);
  }
}

/** The partition (0 … partitions-1) of a channel: FNV-1a of its name, modulo `partitions`. */
export function partitionOf(channel: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < channel.length; i++) {
    hash ^= channel.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

/**
 * Tags that do not depend on the cluster: partition p's tag hashes to the middle slot of the p-th
 * of `partitions` equal slot intervals. On any cluster whose masters serve equal contiguous ranges
 * (what `redis-cli --cluster create` makes) each master gets ⌊partitions/masters⌋ or one more, and
 * a channel's keys keep their names when the cluster is resharded or grows.
 */
export function evenSlotTags(partitions: number): string[] {
  checkPartitions(partitions);
  const table = slotTags();
  const tags: string[] = [];
  for (let p = 0; p < partitions; p++) tags.push(table[Math.floor(((2 * p + 1) * SLOT_COUNT) / (2 * partitions))] as string);
  return tags;
}

/**
 * Tags fitted to one slot map: partition p's tag hashes to a slot of master p % masters, spread
 * over that master's slots. Every master gets ⌊partitions/masters⌋ or one more whatever its ranges,
 * but the tags (and so every key name) change when the map changes: compute them once and keep them.
 */
export function masterAlignedTags(partitions: number, map: SlotMap): string[] {
  checkPartitions(partitions);
  const masters = map.masters.length;
  if (masters === 0) throw new Error('the slot map has no master serving slots: is the cluster up (CLUSTER SHARDS)?');
  const table = slotTags();
  const tags: string[] = [];
  const owned = map.masters.map((_, index) => map.slotsOf(index));
  for (let p = 0; p < partitions; p++) {
    const master = p % masters;
    const slots = owned[master] as number[];
    const count = Math.floor(partitions / masters) + (master < partitions % masters ? 1 : 0);
    if (count > slots.length) throw new Error(`master ${master} serves ${slots.length} slots, fewer than its ${count} partitions: use fewer partitions`);
    const k = Math.floor(p / masters);
    tags.push(table[slots[Math.floor(((2 * k + 1) * slots.length) / (2 * count))] as number] as string);
  }
  return tags;
}

/** For each master of `map` (by index), the partitions whose tags it serves; unserved tags are left out. */
export function partitionsByMaster(tags: readonly string[], map: SlotMap): number[][] {
  const owned: number[][] = map.masters.map(() => []);
  tags.forEach((tag, partition) => {
    owned[map.masterIndexOf(keySlot(`{${tag}}`))]?.push(partition);
  });
  return owned;
}
