import type { Logger } from '../log/logger';
import { PresenceBatch } from './presence-batch';
import { encodePresenceFrame } from './presence-frame';
import type { PresenceCounts, PresenceEntry, PresenceStore } from './presence-store';

/** Prefix of the uWS topic that carries a channel's join/leave frames (not a valid channel name, so no clash). */
export const LISTENER_TOPIC_PREFIX = '\u0001presence:';

/** Milliseconds this process gathers joins and leaves before writing them as one batch per channel. */
export const PRESENCE_TICK_MS = 100;

/** Where join/leave frames go: the uWS app (`publish` fans out in C++). */
export interface TopicPublisher {
  publish(topic: string, message: Uint8Array, isBinary: boolean, compress: boolean): boolean;
}

/**
 * This process's side of presence: which channels have presence (`presenceNamespaces`), the
 * batch of local joins and leaves written every tick (one store call per channel per tick, so a
 * mass reconnect costs a batch per channel per process, not a write and a frame per client), the
 * heartbeat that keeps this node's entries alive (every ttl / 3), and the fan-out of the join/
 * leave batches the store delivers to the local listeners' uWS topic.
 */
export class PresenceService {
  private readonly batch = new PresenceBatch();
  /** Entries of this node per channel (what the heartbeat renews, and rewrites when they were expired). */
  private readonly local = new Map<string, Map<string, PresenceEntry>>();
  /** Channels this node wrote to since its entries there began: a lapsed deadline there means lost entries. */
  private readonly wroteTo = new Set<string>();
  /** Local listeners of join/leave events per channel, and the store's watch of it. */
  private readonly listeners = new Map<string, { count: number; watching: Promise<void> }>();
  private flushTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private sequence = 0;
  /** Resolves once the batch being gathered now was written (or failed and was put back). */
  private written: { promise: Promise<void>; resolve: () => void } | null = null;
  private stopped = false;

  constructor(
    readonly store: PresenceStore,
    private readonly namespaces: readonly string[],
    app: TopicPublisher,
    private readonly logger: Logger,
    /** Milliseconds entries of a dead process live (its heartbeat renews them every ttl / 3). */
    readonly ttl: number,
  ) {
    store.onEvent((channel, joins, leaves) => {
      if (this.listeners.has(channel)) app.publish(LISTENER_TOPIC_PREFIX + channel, encodePresenceFrame(channel, joins, leaves), true, false);
    });
  }

  /** True when `channel` is in a presence namespace. */
  covers(channel: string): boolean {
    for (const prefix of this.namespaces) if (channel.startsWith(prefix)) return true;
    return false;
  }

  /** A fresh client id, unique across processes: this node's id and a counter. */
  newClientId(): string {
    return `${this.store.node}.${(++this.sequence).toString(36)}`;
  }

  /** Starts the heartbeat. */
  start(): void {
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor(this.ttl / 3)));
    this.heartbeatTimer.unref();
  }

  /** A client became present on `channel`; resolves once the batch holding it was written. */
  join(channel: string, entry: PresenceEntry): Promise<void> {
    let mine = this.local.get(channel);
    if (mine === undefined) this.local.set(channel, (mine = new Map()));
    mine.set(entry.client, entry);
    this.batch.join(channel, entry);
    this.schedule();
    if (this.written === null) {
      let resolve = (): void => {};
      const promise = new Promise<void>((r) => (resolve = r));
      this.written = { promise, resolve };
    }
    return this.written.promise;
  }

  /** A client left `channel`. */
  leave(channel: string, client: string): void {
    const mine = this.local.get(channel);
    mine?.delete(client);
    if (mine?.size === 0) {
      this.local.delete(channel);
      this.wroteTo.delete(channel);
    }
    this.batch.leave(channel, client);
    this.schedule();
  }

  /** The uWS topic of `channel`'s join/leave frames. */
  listenerTopic(channel: string): string {
    return LISTENER_TOPIC_PREFIX + channel;
  }

  /** One more local listener of `channel`'s join/leave events; resolves once the store delivers them. */
  listen(channel: string): Promise<void> {
    let l = this.listeners.get(channel);
    if (l === undefined) {
      const watching = this.store.watch(channel).catch((err: Error) => {
        this.logger.warn({ channel, err: err.message }, 'presence: could not watch join/leave events');
      });
      this.listeners.set(channel, (l = { count: 0, watching }));
    }
    l.count++;
    return l.watching;
  }

  /** One local listener of `channel` fewer. */
  unlisten(channel: string): void {
    const l = this.listeners.get(channel);
    if (l === undefined) return;
    if (--l.count > 0) return;
    this.listeners.delete(channel);
    this.store.unwatch(channel);
  }

  /** Entries of `channel` (waits for this process's pending writes first). */
  async list(channel: string): Promise<PresenceEntry[]> {
    await this.flushNow();
    return this.store.list(channel);
  }

  /** Counts of `channel` (waits for this process's pending writes first). */
  async counts(channel: string): Promise<PresenceCounts> {
    await this.flushNow();
    return this.store.counts(channel);
  }

  /** Writes what is gathered, then stops the heartbeat and the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.flushNow();
    this.stopped = true;
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    await this.store.close();
  }

  private schedule(delay = PRESENCE_TICK_MS): void {
    if (this.flushTimer !== null || this.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flushNow();
    }, delay);
  }

  /** Writes the gathered batch after any write in progress; resolves once done. */
  private flushNow(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const written = this.written;
      this.written = null;
      try {
        await this.write();
      } finally {
        written?.resolve();
      }
    });
    return this.flushing;
  }

  /** Writes the gathered batch, one store call per channel; failed channels are put back and retried a second later. */
  private async write(): Promise<void> {
    if (this.batch.empty || this.stopped) return;
    const taken = this.batch.take();
    if (this.logger.isLevelEnabled('debug')) {
      let joins = 0;
      let leaves = 0;
      for (const c of taken.values()) {
        joins += c.joins.size;
        leaves += c.leaves.size;
      }
      this.logger.debug({ channels: taken.size, joins, leaves }, 'presence: writing batch');
    }
    const failed: typeof taken = new Map();
    await Promise.all(
      [...taken].map(([channel, c]) =>
        this.store.apply(channel, [...c.joins.values()], [...c.leaves]).then(
          (lapsed) => this.afterWrite(channel, lapsed),
          (err: Error) => {
            failed.set(channel, c);
            this.logger.warn({ channel, err: err.message }, 'presence: write failed; retrying');
          },
        ),
      ),
    );
    if (failed.size > 0) {
      this.batch.restore(failed);
      this.schedule(1000);
    }
  }

  /**
   * After a write or heartbeat of `channel`: when this node's deadline there had lapsed (its
   * heartbeat came late: a long pause, Redis or the network slow), other processes may have
   * removed its entries as a dead node's, so they are written again.
   */
  private afterWrite(channel: string, lapsed: boolean): void {
    const mine = this.local.get(channel);
    if (mine === undefined) return;
    if (lapsed && this.wroteTo.has(channel)) {
      this.logger.warn({ channel, entries: mine.size }, "presence: this process's heartbeat came after its ttl; writing its entries again");
      for (const entry of mine.values()) this.batch.join(channel, entry);
      this.schedule();
    }
    this.wroteTo.add(channel);
  }

  /** Renews this node's heartbeat on its channels now (the timer calls it every ttl / 3). */
  async heartbeat(): Promise<void> {
    if (this.stopped || this.local.size === 0) return;
    const channels = [...this.local.keys()];
    try {
      const lapsed = new Set(await this.store.heartbeat(channels));
      for (const channel of channels) this.afterWrite(channel, lapsed.has(channel));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'presence: heartbeat failed');
    }
  }
}
