import type { Sequenced } from './sequenced';

/**
 * The recovery buffer: while a client catches up from history, every publication this process
 * forwards on the channel is also recorded for it, in forwarding order, so the catch-up can
 * hand over to the live topic without a gap or a duplicate. Channels nobody recovers cost one
 * map lookup per forwarded publication.
 */
export class RecoveryBuffer {
  private readonly recordings = new Map<string, Set<Sequenced[]>>();

  /** Appends a forwarded publication to every recording open on `channel`. */
  record(channel: string, item: Sequenced): void {
    const lists = this.recordings.get(channel);
    if (lists !== undefined) for (const list of lists) list.push(item);
  }

  /** Starts recording `channel`; the returned list grows until `close` is called with it. */
  open(channel: string): Sequenced[] {
    const list: Sequenced[] = [];
    let lists = this.recordings.get(channel);
    if (lists === undefined) this.recordings.set(channel, (lists = new Set()));
    lists.add(list);
    return list;
  }

  /** Stops a recording started by `open`. */
  close(channel: string, list: Sequenced[]): void {
    const lists = this.recordings.get(channel);
    if (lists === undefined) return;
    lists.delete(list);
    if (lists.size === 0) this.recordings.delete(channel);
  }

  /** Number of recordings open on `channel` (for tests and diagnostics). */
  openCount(channel: string): number {
    return this.recordings.get(channel)?.size ?? 0;
  }
}
