import Denque from 'denque';
import type { HistoryPolicies } from '../config/history-policy';
import { encodeEnvelopeWithTail, envelopeTail } from '../protocol/envelope';
import type { HistoryEntry, HistoryPage, StreamPosition } from './broker';
import { newEpoch } from './epoch';

interface ChannelStream {
  epoch: string;
  offset: number;
  /** The last publications, oldest first, with consecutive offsets ending at `offset` (a ring: O(1) to drop the oldest). */
  entries: Denque<HistoryEntry>;
  /** When the history expires (ms since epoch). */
  historyExpires: number;
  /** When the offset counter and epoch expire. */
  metaExpires: number;
  /** The envelope tail (epoch, publish time) of the last append, and its time: a batch shares one. */
  tail: Buffer | null;
  tailTime: number;
}

/**
 * In-process history with the semantics of the Redis one: per-channel offsets and epochs, the
 * last `size` publications kept, history expiring `ttl` seconds after the last publication and
 * the offset counter `metaTtl` seconds after it.
 */
export class MemoryHistory {
  private readonly streams = new Map<string, ChannelStream>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly policies: HistoryPolicies,
    private readonly metaTtl: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  private stream(channel: string, now: number): ChannelStream {
    let s = this.streams.get(channel);
    if (s !== undefined && s.metaExpires <= now) s = undefined;
    if (s === undefined) {
      s = { epoch: newEpoch(), offset: 0, entries: new Denque(), historyExpires: 0, metaExpires: now + this.metaTtl * 1000, tail: null, tailTime: 0 };
      this.streams.set(channel, s);
    }
    if (s.historyExpires <= now) s.entries.clear();
    return s;
  }

  /** The history's clock (ms since 1970): one reading serves a batch of appends. */
  time(): number {
    return this.now();
  }

  /** Appends a publication published at `now`; returns its envelope and position, or null when the channel keeps no history. */
  append(channel: string, dataElement: Buffer, now: number = this.now()): { envelope: Buffer; position: StreamPosition } | null {
    const policy = this.policies.for(channel);
    if (policy.size === 0) return null;
    const s = this.stream(channel, now);
    s.offset++;
    if (s.tail === null || s.tailTime !== now) {
      s.tail = envelopeTail(s.epoch, now);
      s.tailTime = now;
    }
    const envelope = encodeEnvelopeWithTail(dataElement, s.offset, s.tail);
    s.entries.push({ offset: s.offset, envelope });
    // one over the size after each append; more only after the size shrank
    while (s.entries.length > policy.size) s.entries.shift();
    s.historyExpires = now + policy.ttl * 1000;
    s.metaExpires = now + Math.max(this.metaTtl, policy.ttl) * 1000;
    return { envelope, position: { offset: s.offset, epoch: s.epoch } };
  }

  /** Publications after `since`, at most `limit`; null when the channel keeps no history. */
  read(channel: string, since: number, limit: number): HistoryPage | null {
    if (this.policies.for(channel).size === 0) return null;
    const s = this.stream(channel, this.now());
    const publications: HistoryEntry[] = [];
    const oldest = s.entries.peekFront();
    if (oldest !== undefined && limit > 0) {
      // offsets are consecutive: the first one after `since` is at a known index
      for (let i = Math.max(0, since + 1 - oldest.offset); i < s.entries.length && publications.length < limit; i++) publications.push(s.entries.peekAt(i)!);
    }
    return { epoch: s.epoch, top: s.offset, publications };
  }

  /** Drops expired channels so memory stays bounded by active channels. */
  sweep(): void {
    const now = this.now();
    for (const [channel, s] of this.streams) {
      if (s.metaExpires <= now) this.streams.delete(channel);
      else if (s.historyExpires <= now) s.entries.clear();
    }
  }

  /** Stops the expiry sweeper. */
  close(): void {
    clearInterval(this.sweeper);
    this.streams.clear();
  }
}
