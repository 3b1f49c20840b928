import type { StreamNames } from '../stream-names';
import { keySlot } from './key-slot';
import { partitionOf } from './partition-tags';

/**
 * Key and shard-channel names on a Redis Cluster. Every name of a channel carries its partition's
 * hash tag right after the prefix, so they share one slot (one Lua script touches them all):
 * history stream `<prefix>{<tag>}h:<channel>`, meta hash `<prefix>{<tag>}m:<channel>`, idempotency
 * keys `<prefix>{<tag>}i:<channel>/<key>`, shard channel `<prefix>{<tag>}<channel>` (the
 * single-Redis names with the tag inserted).
 */
export class ClusterKeys implements StreamNames {
  /** Publications travel on shard channels. */
  readonly fanoutCommand = 'SPUBLISH' as const;

  constructor(
    private readonly prefix: string,
    private readonly tags: readonly string[],
  ) {
    if (/[{}]/.test(prefix))
      throw new Error(
        `the Redis prefix "${prefix}" contains { or }: on a cluster the partition tag must be the first {…} of every key; choose a prefix without braces`,
      );
    if (tags.length === 0) throw new Error('at least one partition tag is needed');
    for (const tag of tags) if (tag.length === 0 || /[{}]/.test(tag)) throw new Error(`invalid partition tag "${tag}": tags are non-empty and brace-free`);
  }

  /** Number of partitions. */
  get partitions(): number {
    return this.tags.length;
  }

  /** The partition of `channel`. */
  partitionOf(channel: string): number {
    return partitionOf(channel, this.tags.length);
  }

  /** `<prefix>{<tag>}` for `channel`: the start of all its names. */
  private head(channel: string): string {
    return `${this.prefix}{${this.tags[this.partitionOf(channel)] as string}}`;
  }

  /** The history stream key of `channel`. */
  stream(channel: string): string {
    return `${this.head(channel)}h:${channel}`;
  }

  /** The meta hash key (latest offset, epoch) of `channel`. */
  meta(channel: string): string {
    return `${this.head(channel)}m:${channel}`;
  }

  /** The key holding the result of the first publish with idempotency key `key` on `channel` (channel names never contain "/"). */
  idempotency(channel: string, key: string): string {
    return `${this.head(channel)}i:${channel}/${key}`;
  }

  /** The shard channel `channel`'s publications travel on (SSUBSCRIBE/SPUBLISH). */
  shardChannel(channel: string): string {
    return this.head(channel) + channel;
  }

  /** The fan-out channel of `channel`: its shard channel. */
  fanout(channel: string): string {
    return this.shardChannel(channel);
  }

  /** A shard channel named `name` in partition `partition` (the health probes use names no channel can have). */
  shardChannelIn(partition: number, name: string): string {
    return `${this.prefix}{${this.tags[partition] as string}}${name}`;
  }

  /** The slot all names of `channel` hash to. */
  slotOf(channel: string): number {
    return keySlot(this.shardChannel(channel));
  }

  /** The channel a shard channel name belongs to, or null when it is not one of ours. */
  channelOf(shardChannel: string | Buffer): string | null {
    const name = typeof shardChannel === 'string' ? shardChannel : shardChannel.toString('latin1');
    if (!name.startsWith(`${this.prefix}{`)) return null;
    const close = name.indexOf('}', this.prefix.length + 1);
    if (close < 0 || close === name.length - 1) return null;
    const channel = name.slice(close + 1);
    return this.shardChannel(channel) === name ? channel : null;
  }

  /** Shard channels of `channels` grouped by slot: one SSUBSCRIBE/SUNSUBSCRIBE call per entry. */
  shardChannelsBySlot(channels: Iterable<string>): Map<number, string[]> {
    const bySlot = new Map<number, string[]>();
    for (const channel of channels) {
      const name = this.shardChannel(channel);
      const slot = keySlot(name);
      const list = bySlot.get(slot);
      if (list === undefined) bySlot.set(slot, [name]);
      else list.push(name);
    }
    return bySlot;
  }
}
