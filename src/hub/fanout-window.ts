import type { MessageHandler } from '../broker/broker';

/** Consecutive empty windows after which a channel's window closes (its next publication then goes out at once). */
export const EMPTY_WINDOWS_BEFORE_CLOSE = 8;

/**
 * Publications uWS holds for one subscriber before it writes them: its TopicTree keeps at most 32
 * per subscriber (over all the topics it is subscribed to) and writes them out (one socket write)
 * when a 33rd arrives. A window hands a channel's publications over as soon as it has gathered
 * this many: gathering more would only split them over two writes per subscriber, 32 and the
 * rest. A rule of thumb, not exact: a subscriber of several busy channels, or one that got the
 * publication that opened the window in the same turn, may still see a 32 and the rest.
 */
export const FRAMES_PER_WRITE = 32;

/** One channel's open window: what it gathered, and how many windows in a row it gathered nothing. */
interface ChannelWindow {
  queue: Buffer[];
  emptyWindows: number;
  /** This window handed over a full queue before its end (it was not empty). */
  handedOver: boolean;
}

/**
 * Gathers the broker's publications for a short window so that each channel's are fanned out
 * in one event-loop turn: uWS then writes them to each subscriber together (many frames per
 * socket write). Windows are per channel, because only publications on one channel share its
 * subscribers' writes: the first publication on a channel after a quiet spell goes out at once
 * and opens that channel's window, so a low rate pays no latency, and neither does a channel
 * whose neighbours are busy; while publications keep arriving on a channel, each window's are
 * delivered when it ends, in order. One timer serves every open window: a channel that opens
 * while others are open ends its first window with theirs.
 *
 * A window opens in the loop iteration after a fan-out, not at once: uWS writes a turn's frames
 * at the end of that iteration, which takes long under load, and a window measured from before
 * those writes would end as soon as they are done, gathering nothing. Opened afterwards, it lasts
 * `windowMs` of loop time in which requests and Redis replies keep flowing.
 *
 * A window that gathers FRAMES_PER_WRITE publications hands them over at once instead of waiting
 * for its end: uWS writes at most that many to a subscriber in one write.
 *
 * A channel's window stays open through up to EMPTY_WINDOWS_BEFORE_CLOSE - 1 empty windows in a
 * row: at a steady rate near one publication per window, a single empty window is common, and
 * closing on it would send the next publication alone (one frame per socket write to every
 * subscriber).
 */
export class FanoutWindow {
  /** Channels whose window is open, in the order they opened. */
  private readonly open = new Map<string, ChannelWindow>();
  private timer: NodeJS.Timeout | null = null;

  /** `windowMs` 0 delivers every publication at once. */
  constructor(
    private readonly windowMs: number,
    private readonly deliver: MessageHandler,
  ) {}

  /** Takes one publication from the broker. */
  accept(channel: string, envelope: Buffer): void {
    if (this.windowMs === 0) {
      this.deliver(channel, envelope);
      return;
    }
    const window = this.open.get(channel);
    if (window !== undefined) {
      window.queue.push(envelope);
      if (window.queue.length >= FRAMES_PER_WRITE) {
        window.handedOver = true;
        this.handOver(channel, window);
      }
      return;
    }
    this.deliver(channel, envelope);
    this.open.set(channel, { queue: [], emptyWindows: 0, handedOver: false });
    if (this.timer === null) this.afterFanout();
  }

  /** Delivers what `window` gathered; it stays open (a full one is not an empty one). */
  private handOver(channel: string, window: ChannelWindow): void {
    const queue = window.queue;
    window.queue = [];
    window.emptyWindows = 0;
    for (const envelope of queue) this.deliver(channel, envelope);
  }

  /** The next window starts in the loop iteration after this one's fan-out (after uWS's writes). */
  private afterFanout(): void {
    this.timer = setTimeout(() => this.startWindow(), 0);
    this.timer.unref();
  }

  private startWindow(): void {
    this.timer = setTimeout(() => this.endWindow(), this.windowMs);
    this.timer.unref();
  }

  /** Delivers what each open window gathered; closes the windows that stayed empty too long. */
  private endWindow(): void {
    this.timer = null;
    let delivered = false;
    for (const [channel, window] of this.open) {
      const handedOver = window.handedOver;
      window.handedOver = false;
      if (window.queue.length === 0) {
        // handOver reset the count; a window that handed over is not an empty one
        if (!handedOver && ++window.emptyWindows >= EMPTY_WINDOWS_BEFORE_CLOSE) this.open.delete(channel);
        continue;
      }
      delivered = true;
      this.handOver(channel, window);
    }
    // a publication on a new channel during the fan-out already started the next window
    if (this.timer !== null || this.open.size === 0) return;
    // after a fan-out the next window waits for uWS's writes; after none it starts now
    if (delivered) this.afterFanout();
    else this.startWindow();
  }

  /** True while `channel`'s window is open (a publication on it arriving now would wait for its end); without a channel, while any is. */
  isOpen(channel?: string): boolean {
    return channel === undefined ? this.open.size > 0 : this.open.has(channel);
  }

  /** Delivers what is gathered now and closes every window (shutdown). */
  drain(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const open = [...this.open];
    this.open.clear();
    for (const [channel, window] of open) for (const envelope of window.queue) this.deliver(channel, envelope);
  }
}
