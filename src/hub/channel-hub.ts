import type { Broker, StreamPosition } from '../broker/broker';
import type { Logger } from '../log/logger';
import type { ServerStats } from '../stats';
import { ChannelRegistry } from './channel-registry';
import { ChannelSequencer } from './channel-sequencer';
import { createFanout, type FanoutApp } from './fanout';
import { FanoutWindow } from './fanout-window';
import { RecoveryBuffer } from './recovery-buffer';
import type { Sequenced } from './sequenced';

/** The parts of the broker the hub drives: subscriptions, history reads, and its two event handlers. */
export type HubBroker = Pick<Broker, 'subscribe' | 'unsubscribe' | 'history' | 'onMessage' | 'onState'>;

/** What a WebSocket session needs from the hub: channel holds, positions and recovery recordings. */
export interface SubscriptionHub {
  /** Reserves `channels` for a subscribe in progress; resolves when the broker receives them. */
  hold(channels: readonly string[]): Promise<void>;
  /** Releases holds taken by `hold`. */
  release(channels: readonly string[]): void;
  /** The last position this process forwarded on `channel`, or null. */
  position(channel: string): StreamPosition | null;
  /** Sets a channel's starting point when no publication was seen yet. */
  observe(channel: string, epoch: string, offset: number): void;
  /** Starts recording what is forwarded on `channel` (see RecoveryBuffer). */
  openRecording(channel: string): Sequenced[];
  /** Stops a recording. */
  closeRecording(channel: string, list: Sequenced[]): void;
}

/**
 * The per-process channel hub: which channels have local subscribers (driving the broker's
 * SUBSCRIBE/UNSUBSCRIBE), the ordering and gap repair of each channel's publications, the
 * recovery buffer, and the fan-out that turns a publication into its wire bytes once per
 * process and hands them to uWS. Broker events arrive here.
 */
export class ChannelHub implements SubscriptionHub {
  private readonly registry: ChannelRegistry;
  private readonly sequencer: ChannelSequencer;
  private readonly recovery = new RecoveryBuffer();
  private readonly window: FanoutWindow;

  /** `windowMs`: how long publications are gathered before one fan-out turn (see FanoutWindow; 0: none). */
  constructor(app: FanoutApp, broker: HubBroker, stats: ServerStats, logger: Logger, compress: boolean, windowMs = 0) {
    const fanout = createFanout(app, stats, compress);
    const recovery = this.recovery;
    this.sequencer = new ChannelSequencer(
      broker,
      {
        forward(channel, item) {
          fanout.forward(channel, item);
          recovery.record(channel, item);
        },
        resync: (channel, reason) => fanout.resync(channel, reason),
      },
      stats,
      logger,
    );
    this.registry = new ChannelRegistry(app, broker, (channel) => this.sequencer.forget(channel));
    this.window = new FanoutWindow(windowMs, (channel, envelope) => this.sequencer.accept(channel, envelope));
    broker.onMessage((channel, envelope) => this.window.accept(channel, envelope));
    let wasReady = false;
    broker.onState((ready) => {
      if (ready && wasReady) {
        stats.brokerReconnects++;
        // Publications made while this process was cut off are fetched from history.
        this.sequencer.verifyAll();
      }
      if (ready) wasReady = true;
    });
  }

  hold(channels: readonly string[]): Promise<void> {
    return this.registry.hold(channels);
  }

  release(channels: readonly string[]): void {
    this.registry.release(channels);
  }

  /** Called from the uWS `subscription` handler when a topic's local subscriber count changes. */
  onTopicCount(channel: string, newCount: number, oldCount: number): void {
    this.registry.onTopicCount(channel, newCount, oldCount);
  }

  position(channel: string): StreamPosition | null {
    return this.sequencer.position(channel);
  }

  observe(channel: string, epoch: string, offset: number): void {
    this.sequencer.observe(channel, epoch, offset);
  }

  openRecording(channel: string): Sequenced[] {
    return this.recovery.open(channel);
  }

  closeRecording(channel: string, list: Sequenced[]): void {
    this.recovery.close(channel, list);
  }

  /** Fans out what the window gathered now (shutdown). */
  drain(): void {
    this.window.drain();
  }

  /** Number of recordings open on `channel` (diagnostics and tests). */
  recordingCount(channel: string): number {
    return this.recovery.openCount(channel);
  }
}
