import type { Logger } from '../../log/logger';
import { type SubscriptionBus, type SubscriptionCommand, SubscriptionSet } from '../subscription-set';

/**
 * The subscription set of the cluster broker: one SSUBSCRIBE / SUNSUBSCRIBE per slot (ioredis
 * refuses a multi-slot one), always with names, and only for what ioredis does not hold already.
 * ioredis resubscribes the channels it holds on a slot's new owner by itself, so a resubscribe
 * after a reconnect sends only the channels it lost (a failed SSUBSCRIBE), and confirms the rest.
 */
export class ShardedSubscriptionSet extends SubscriptionSet {
  /** Channels ioredis holds (SSUBSCRIBE sent, no SUNSUBSCRIBE since). */
  private readonly held = new Set<string>();

  constructor(
    bus: SubscriptionBus,
    logger: Logger,
    private readonly slotOf: (channel: string) => number,
  ) {
    super(bus, logger);
  }

  protected override plan(command: SubscriptionCommand, channels: readonly string[]): string[][] {
    const subscribing = command === 'subscribe';
    // Held channels need no SSUBSCRIBE: they are confirmed now; only held ones take a SUNSUBSCRIBE.
    if (subscribing)
      this.settle(
        channels.filter((c) => this.held.has(c)),
        true,
      );
    const bySlot = new Map<number, string[]>();
    for (const channel of channels) {
      if (this.held.has(channel) === subscribing) continue;
      const slot = this.slotOf(channel);
      const group = bySlot.get(slot);
      if (group === undefined) bySlot.set(slot, [channel]);
      else group.push(channel);
      if (subscribing) this.held.add(channel);
      else this.held.delete(channel);
    }
    return [...bySlot.values()].flatMap((group) => super.plan(command, group));
  }

  protected override failed(command: SubscriptionCommand, batch: readonly string[]): void {
    // Not held after all: sent again on the next 'ready'.
    if (command === 'subscribe') for (const channel of batch) this.held.delete(channel);
  }
}
