import type { PresenceEntry } from './presence-store';

/** One channel's changes gathered during a tick. */
export interface ChannelChanges {
  joins: Map<string, PresenceEntry>;
  leaves: Set<string>;
}

/**
 * The joins and leaves of this process gathered between two flushes, per channel. A leave
 * cancels a join of the same client not yet written and a join cancels such a leave, so a
 * client that leaves and comes back (or the reverse) within one tick costs nothing.
 */
export class PresenceBatch {
  private changes = new Map<string, ChannelChanges>();

  /** True when nothing is gathered. */
  get empty(): boolean {
    return this.changes.size === 0;
  }

  private of(channel: string): ChannelChanges {
    let c = this.changes.get(channel);
    if (c === undefined) this.changes.set(channel, (c = { joins: new Map(), leaves: new Set() }));
    return c;
  }

  /** A client joined `channel`. */
  join(channel: string, entry: PresenceEntry): void {
    const c = this.of(channel);
    if (!c.leaves.delete(entry.client)) c.joins.set(entry.client, entry);
  }

  /** A client left `channel`. */
  leave(channel: string, client: string): void {
    const c = this.of(channel);
    if (!c.joins.delete(client)) c.leaves.add(client);
  }

  /** Hands over what was gathered and starts empty. */
  take(): Map<string, ChannelChanges> {
    const taken = this.changes;
    this.changes = new Map();
    for (const [channel, c] of taken) if (c.joins.size === 0 && c.leaves.size === 0) taken.delete(channel);
    return taken;
  }

  /** Puts back changes that could not be written, before anything gathered since. */
  restore(failed: Map<string, ChannelChanges>): void {
    const later = this.changes;
    this.changes = new Map();
    for (const [channel, c] of failed) {
      for (const client of c.leaves) this.leave(channel, client);
      for (const entry of c.joins.values()) this.join(channel, entry);
    }
    for (const [channel, c] of later) {
      for (const client of c.leaves) this.leave(channel, client);
      for (const entry of c.joins.values()) this.join(channel, entry);
    }
  }
}
