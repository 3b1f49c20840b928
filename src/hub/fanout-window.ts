import type { MessageHandler } from '../broker/broker';

/** Consecutive empty windows after which the window closes (the next publication then goes out at once). */
export const EMPTY_WINDOWS_BEFORE_CLOSE = 8;

/**
 * Gathers the broker's publications for a short window so they are fanned out in one event-loop
 * turn: uWS then writes them to each subscriber together (many frames per socket write). The
 * first publication after a quiet spell goes out at once, so a low publication rate pays no
 * latency; while publications keep arriving, each window's are delivered when it ends, in order.
 *
 * A window opens in the loop iteration after a fan-out, not at once: uWS writes a turn's frames
 * at the end of that iteration, which takes long under load, and a window measured from before
 * those writes would end as soon as they are done, gathering nothing. Opened afterwards, it lasts
 * `windowMs` of loop time in which requests and Redis replies keep flowing.
 *
 * The window stays open through up to EMPTY_WINDOWS_BEFORE_CLOSE - 1 empty windows in a row: at a
 * steady rate near one publication per window, a single empty window is common, and closing on
 * it would send the next publication alone (one frame per socket write to every subscriber).
 */
export class FanoutWindow {
  /** Gathered publications: channel, envelope, channel, envelope, … */
  private queue: Array<string | Buffer> = [];
  private timer: NodeJS.Timeout | null = null;
  /** Empty windows in a row since the last delivery. */
  private emptyWindows = 0;

  /** `windowMs` 0 delivers every publication at once. */
  constructor(
    private readonly windowMs: number,
    private readonly deliver: MessageHandler,
  ) {}

  /** Takes one publication from the broker. */
  accept(channel: string, envelope: Buffer): void {
    if (this.windowMs === 0) {
      this.deliver(channel, envelope);
    } else if (this.timer === null) {
      this.deliver(channel, envelope);
      this.open();
    } else {
      this.queue.push(channel, envelope);
    }
  }

  private open(): void {
    // first hop: the next loop iteration (after uWS's writes), where loop time is fresh
    this.timer = setTimeout(() => {
      this.timer = setTimeout(() => this.flush(), this.windowMs);
      this.timer.unref();
    }, 0);
    this.timer.unref();
  }

  /** Delivers what the window gathered; keeps a window open while publications keep coming. */
  private flush(): void {
    const queue = this.queue;
    if (queue.length === 0) {
      if (++this.emptyWindows >= EMPTY_WINDOWS_BEFORE_CLOSE) {
        this.timer = null;
        this.emptyWindows = 0;
        return;
      }
      // nothing was fanned out: the next window starts now
      this.timer = setTimeout(() => this.flush(), this.windowMs);
      this.timer.unref();
      return;
    }
    this.emptyWindows = 0;
    this.queue = [];
    this.open();
    for (let i = 0; i < queue.length; i += 2) this.deliver(queue[i] as string, queue[i + 1] as Buffer);
  }

  /** True while a window is open (a publication arriving now would wait for its end). */
  isOpen(): boolean {
    return this.timer !== null;
  }

  /** Delivers what is gathered now and closes the window (shutdown). */
  drain(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.emptyWindows = 0;
    const queue = this.queue;
    this.queue = [];
    for (let i = 0; i < queue.length; i += 2) this.deliver(queue[i] as string, queue[i + 1] as Buffer);
  }
}
