import type { Logger } from '../log/logger';

/** Channels per SUBSCRIBE/UNSUBSCRIBE command when many change at once (e.g. after a reconnect). */
export const SUBSCRIBE_BATCH = 1000;

/** A subscribe or an unsubscribe command. */
export type SubscriptionCommand = 'subscribe' | 'unsubscribe';

/** What a SubscriptionSet asks of its broker: the state of the subscriber connection(s) and the two commands. */
export interface SubscriptionBus {
  /** Name of the bus in log lines ("redis", "redis cluster"). */
  readonly label: string;
  /** True while commands reach the bus; what changes while false is sent by `resubscribeAll` once it returns. */
  reachable(): boolean;
  /** True while confirmed subscriptions deliver: only then does `subscribe` wait for the bus to confirm. */
  live(): boolean;
  /** Sends one command for `channels` (one batch); resolves once the bus confirmed it. */
  send(command: SubscriptionCommand, channels: readonly string[]): Promise<unknown>;
}

/**
 * The channels a broker wants to receive, and what the bus confirmed: subscribes and unsubscribes
 * made within one event-loop turn are sent together at the end of it (a subscribe undone in the
 * same turn sends nothing), in batches of SUBSCRIBE_BATCH; `subscribe` resolves once the bus
 * confirmed the channel, or at once while it is down; after a reconnect every wanted channel is
 * sent again. A subclass changes which commands a batch takes (`plan`).
 */
export class SubscriptionSet {
  private readonly wanted = new Set<string>();
  private readonly confirmed = new Set<string>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly toSubscribe = new Set<string>();
  private readonly toUnsubscribe = new Set<string>();
  private flushScheduled = false;

  constructor(
    protected readonly bus: SubscriptionBus,
    protected readonly logger: Logger,
  ) {}

  /** Wants `channel` (idempotent); resolves once the bus confirmed it, or at once while the bus is not live. */
  subscribe(channel: string): Promise<void> {
    if (!this.wanted.has(channel)) {
      this.wanted.add(channel);
      this.toUnsubscribe.delete(channel);
      this.toSubscribe.add(channel);
      this.scheduleFlush();
    }
    if (this.confirmed.has(channel) || !this.bus.live()) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(channel);
      if (list === undefined) this.waiters.set(channel, [resolve]);
      else list.push(resolve);
    });
  }

  /** Stops wanting `channel` (idempotent). */
  unsubscribe(channel: string): void {
    if (!this.wanted.delete(channel)) return;
    this.confirmed.delete(channel);
    this.toSubscribe.delete(channel);
    this.toUnsubscribe.add(channel);
    this.scheduleFlush();
  }

  /** True when `channel` is confirmed and the bus is live: a subscriber receives it without a round trip. */
  receivesAtOnce(channel: string): boolean {
    return this.bus.live() && this.confirmed.has(channel);
  }

  /** The channels wanted now. */
  channels(): ReadonlySet<string> {
    return this.wanted;
  }

  /** Forgets every confirmation and releases every waiter: the subscriber connection dropped. */
  settleAll(): void {
    this.confirmed.clear();
    this.settle([...this.waiters.keys()], false);
  }

  /** Sends every wanted channel again (after a (re)connect); what was pending for this turn is part of it. */
  resubscribeAll(): void {
    this.toSubscribe.clear();
    this.toUnsubscribe.clear();
    if (this.wanted.size === 0) return;
    this.logger.info({ channels: this.wanted.size }, 'resubscribing channels');
    this.send('subscribe', [...this.wanted]);
  }

  /** Marks `channels` confirmed (when still wanted) or not, and releases their waiters. */
  protected settle(channels: readonly string[], confirmed: boolean): void {
    for (const channel of channels) {
      if (confirmed && this.wanted.has(channel)) this.confirmed.add(channel);
      const list = this.waiters.get(channel);
      if (list === undefined) continue;
      this.waiters.delete(channel);
      for (const resolve of list) resolve();
    }
  }

  /** The batches of one command for `channels`: here chunks of SUBSCRIBE_BATCH in the given order. */
  protected plan(_command: SubscriptionCommand, channels: readonly string[]): string[][] {
    const batches: string[][] = [];
    for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) batches.push(channels.slice(i, i + SUBSCRIBE_BATCH));
    return batches;
  }

  /** Called when a batch's command failed, before its waiters are released. */
  protected failed(_command: SubscriptionCommand, _batch: readonly string[]): void {}

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const subscribe = [...this.toSubscribe];
      const unsubscribe = [...this.toUnsubscribe];
      this.toSubscribe.clear();
      this.toUnsubscribe.clear();
      // While the bus is unreachable nothing is sent: the wanted set goes again on resubscribeAll().
      if (!this.bus.reachable()) return;
      this.send('subscribe', subscribe);
      this.send('unsubscribe', unsubscribe);
    });
  }

  private send(command: SubscriptionCommand, channels: readonly string[]): void {
    for (const batch of this.plan(command, channels)) {
      this.bus.send(command, batch).then(
        () => {
          if (command === 'subscribe') this.settle(batch, true);
        },
        (err: Error) => {
          // A dropped connection is repaired by resubscribeAll() on the next 'ready'.
          this.logger.warn({ err: err.message, channels: batch.length }, `${this.bus.label} ${command} failed`);
          this.failed(command, batch);
          if (command === 'subscribe') this.settle(batch, false);
        },
      );
    }
  }
}
