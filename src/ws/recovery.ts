import type { HistoryEntry, HistoryReader } from '../broker/broker';
import type { HistoryPolicies } from '../config/history-policy';
import type { SubscriptionHub } from '../hub/channel-hub';
import { parseStored, type Sequenced } from '../hub/sequenced';
import type { RecoveryPosition } from '../protocol/commands';
import { buildPublicationFrame } from '../protocol/publication-frame';
import type { ServerStats } from '../stats';

/** The result sent to a client for a subscription on a channel that keeps history. */
export interface SubscribeResult {
  /** The client's position after this reply: continue counting from here. */
  offset: number;
  /** The channel's current epoch. */
  epoch: string;
  /** Present when a position was given: true when every missed publication was delivered. */
  recovered?: boolean;
}

/** What recovery needs from the server. */
export interface RecoveryDeps {
  /** History reads. */
  readonly broker: HistoryReader;
  /** Positions, holds and the recovery buffer. */
  readonly hub: SubscriptionHub;
  /** History size of each channel (the catch-up reads at most that many). */
  readonly policies: HistoryPolicies;
  /** Process counters. */
  readonly stats: ServerStats;
  /** Bytes a socket may have queued (--max-backpressure); catch-up sends stay below it. */
  readonly maxBackpressure: number;
}

/** The side of a connection a catch-up drives. */
export interface CatchUpSocket {
  /** Set once the socket closed; nothing may be sent then. */
  readonly closed: boolean;
  /** Called by the drain (and close) handler while a catch-up waits for buffer space. */
  drainWaiter: (() => void) | null;
  /** Joins the channel's topic (live publications from now on). */
  joinTopic(channel: string): void;
  /** Sends a frame. */
  sendFrame(frame: Buffer): void;
  /** Bytes queued for the socket right now. */
  bufferedAmount(): number;
  /** Runs `fn` with the socket's writes gathered into one. */
  cork(fn: () => void): void;
  /** Closes the socket as a slow consumer (close code 4002). */
  drop(): void;
}

/**
 * Subscribes `socket` to `channel`. Without a position the socket joins the topic at once and the
 * result reports the channel's current position. With a position, publications after it are
 * sent from history, then those forwarded meanwhile, and only then does the socket join the
 * topic — all in one event-loop turn, so nothing is duplicated, reordered or skipped.
 * The caller holds `channel` in the registry (the broker receives it); the hold is released here.
 * Resolves with the result (null when the channel keeps no history) or rejects when the broker
 * cannot be read; resolves with null without subscribing when the socket closed meanwhile.
 */
export async function subscribeWithPosition(
  ctx: RecoveryDeps,
  ws: CatchUpSocket,
  channel: string,
  since: RecoveryPosition | null,
): Promise<SubscribeResult | null> {
  if (since === null) {
    try {
      if (!ws.closed) ws.joinTopic(channel);
      const known = ctx.hub.position(channel);
      if (known !== null) return known;
      // With the broker down the position is unknown (null); the subscription itself stands.
      const page = await ctx.broker.history(channel, Number.MAX_SAFE_INTEGER, 0).catch(() => null);
      return page === null ? null : { offset: page.top, epoch: page.epoch };
    } finally {
      ctx.hub.release([channel]);
    }
  }
  const collected = ctx.hub.openRecording(channel);
  try {
    const page = await ctx.broker.history(channel, since.offset, ctx.policies.for(channel).size);
    if (ws.closed) return null;
    if (page === null) {
      ws.joinTopic(channel);
      return null;
    }
    const forwarded = ctx.hub.position(channel);
    const sameEpoch = forwarded === null || forwarded.epoch === page.epoch;
    // Publications past what this process forwarded reach the collected list (or the topic) later, in order.
    const limit = forwarded !== null && sameEpoch ? forwarded.offset : page.top;
    const first = page.publications[0]?.offset ?? page.top + 1;
    const recovered = sameEpoch && page.epoch === since.epoch && since.offset <= page.top && first === since.offset + 1;
    const history = recovered ? page.publications.filter((entry) => entry.offset <= limit) : [];
    if (forwarded === null) ctx.hub.observe(channel, page.epoch, page.top);
    const sender = new CatchUpSender(ws, channel, ctx, recovered ? since.offset : limit, history, collected);
    // Sends what fits in the socket's buffer, waits for it to drain, and repeats; the last batch
    // and joining the topic happen in one turn, so nothing is skipped or duplicated.
    for (;;) {
      if (ws.closed) return null;
      const state = sender.pump();
      if (state === 'done') {
        ws.joinTopic(channel);
        break;
      }
      if (state === 'overflow') {
        // The client cannot keep up with the channel's live rate: treat it as a slow consumer.
        ws.drop();
        return null;
      }
      await waitForDrain(ws);
    }
    if (recovered) ctx.stats.recoveriesSucceeded++;
    else ctx.stats.recoveriesFailed++;
    return { offset: sender.last, epoch: page.epoch, recovered };
  } finally {
    ctx.hub.closeRecording(channel, collected);
    ctx.hub.release([channel]);
  }
}

/** Resolves when the socket's send buffer drained (or it closed), or after a second at most. */
function waitForDrain(ws: CatchUpSocket): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, 1000);
    function done(): void {
      clearTimeout(timer);
      if (ws.drainWaiter === done) ws.drainWaiter = null;
      resolve();
    }
    ws.drainWaiter = done;
  });
}

/** Most publications a catching-up socket may fall behind by before it is dropped as too slow. */
const MAX_CATCH_UP_BACKLOG = 10_000;

/** Sends recovered history, then publications forwarded meanwhile, within the backpressure limit. */
class CatchUpSender {
  private nextHistory = 0;
  private nextCollected = 0;

  constructor(
    private readonly ws: CatchUpSocket,
    private readonly channel: string,
    private readonly ctx: RecoveryDeps,
    /** Offset of the last publication the client has. */
    public last: number,
    private readonly history: HistoryEntry[],
    private readonly collected: Sequenced[],
  ) {}

  /** Sends as much as fits: "done" when everything was sent, "full" when the buffer is full. */
  pump(): 'done' | 'full' | 'overflow' {
    if (this.collected.length - this.nextCollected > MAX_CATCH_UP_BACKLOG) return 'overflow';
    let state: 'done' | 'full' = 'done';
    this.ws.cork(() => {
      while (this.nextHistory < this.history.length) {
        const entry = this.history[this.nextHistory] as HistoryEntry;
        const item = parseStored(entry.envelope, this.ctx.stats);
        if (item !== null && !this.send(item)) {
          state = 'full';
          return;
        }
        this.nextHistory++;
        this.ctx.stats.publicationsRecovered++;
      }
      while (this.nextCollected < this.collected.length) {
        const item = this.collected[this.nextCollected] as Sequenced;
        const offset = item.view.offset;
        if (offset === null || offset > this.last) {
          if (!this.send(item)) {
            state = 'full';
            return;
          }
        }
        this.nextCollected++;
      }
    });
    return state;
  }

  /** Sends one publication unless it would pass the backpressure limit. */
  private send(item: Sequenced): boolean {
    const frame = buildPublicationFrame(this.channel, item.envelope, item.view);
    if (this.ws.bufferedAmount() + frame.length > this.ctx.maxBackpressure) return false;
    this.ws.sendFrame(frame);
    if (item.view.offset !== null) this.last = item.view.offset;
    return true;
  }
}
