import type { Broker } from '../broker/broker';
import type { TemplatedApp } from '../uws/uws';

/** What the registry needs from the broker: the subscription calls. */
export type SubscribingBroker = Pick<Broker, 'subscribe' | 'unsubscribe'>;

/**
 * Keeps the broker subscribed to exactly the channels that have local subscribers. The count
 * of a channel is its uWS topic subscriber count plus "holds" taken by handshakes in progress,
 * so a channel is never dropped between a handshake's broker subscription and its socket's open.
 */
export class ChannelRegistry {
  private readonly holds = new Map<string, number>();

  constructor(
    private readonly app: Pick<TemplatedApp, 'numSubscribers'>,
    private readonly broker: SubscribingBroker,
    private readonly onDrop: (channel: string) => void = () => {},
  ) {}

  /** Reserves `channels` for a handshake in progress; resolves when the broker receives them. */
  async hold(channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.holds.set(channel, (this.holds.get(channel) ?? 0) + 1);
    await Promise.all(channels.map((channel) => this.broker.subscribe(channel)));
  }

  /** Releases holds taken by `hold` (after the socket subscribed, or when the handshake was aborted). */
  release(channels: readonly string[]): void {
    for (const channel of channels) {
      const count = (this.holds.get(channel) ?? 1) - 1;
      if (count > 0) this.holds.set(channel, count);
      else {
        this.holds.delete(channel);
        this.dropIfUnused(channel);
      }
    }
  }

  /** Called from the uWS `subscription` handler when a topic's local subscriber count changes. */
  onTopicCount(channel: string, newCount: number, oldCount: number): void {
    if (oldCount === 0 && newCount > 0) void this.broker.subscribe(channel);
    // Inside this callback uWS may still count the leaving socket: trust newCount.
    else if (newCount === 0 && !this.holds.has(channel)) this.drop(channel);
  }

  private dropIfUnused(channel: string): void {
    if (!this.holds.has(channel) && this.app.numSubscribers(channel) === 0) this.drop(channel);
  }

  private drop(channel: string): void {
    this.broker.unsubscribe(channel);
    this.onDrop(channel);
  }
}
