import type { HistoryPage, HistoryReader } from '../broker/broker';
import type { Logger } from '../log/logger';
import { parseEnvelope } from '../protocol/envelope';
import type { ServerStats } from '../stats';
import type { Sequenced } from './sequenced';

interface ChannelState {
  /** Epoch bytes of the last forwarded publication. */
  epoch: Buffer;
  /** Offset of the last forwarded publication. */
  offset: number;
  /** Publications held back while a gap is repaired, or null. */
  queue: Sequenced[] | null;
}

/** What the sequencer drives: the fan-out of ordered publications and the resync notices. */
export interface SequencerOutput {
  /** Hands one publication, in order, to local subscribers. */
  forward(channel: string, item: Sequenced): void;
  /** Tells local subscribers of `channel` that publications were lost. */
  resync(channel: string, reason: string): void;
}

function epochOf(item: Sequenced): Buffer {
  return item.view.epochStart < 0 ? Buffer.alloc(0) : Buffer.from(item.envelope.subarray(item.view.epochStart, item.view.epochEnd));
}

function sameEpoch(epoch: Buffer, item: Sequenced): boolean {
  const { epochStart, epochEnd } = item.view;
  if (epochStart < 0) return epoch.length === 0;
  return epoch.length === epochEnd - epochStart && item.envelope.compare(epoch, 0, epoch.length, epochStart, epochEnd) === 0;
}

/**
 * Keeps each channel's publications in offset order in this process. A jump in offsets (this
 * process's subscriber missed messages) holds newer publications back while the gap is filled
 * from history; what cannot be filled is announced with a resync notice, never skipped silently.
 * Publications without offset (raw PUBLISH) pass straight through.
 */
export class ChannelSequencer {
  private readonly states = new Map<string, ChannelState>();
  private lastWarning = 0;

  constructor(
    private readonly broker: HistoryReader,
    private readonly output: SequencerOutput,
    private readonly stats: ServerStats,
    private readonly logger: Logger,
  ) {}

  /** Entry point for every envelope the broker delivers. */
  accept(channel: string, envelope: Buffer): void {
    const view = parseEnvelope(envelope);
    if (typeof view === 'string') {
      this.stats.invalidEnvelopes++;
      const now = Date.now();
      if (now - this.lastWarning > 10_000) {
        this.lastWarning = now;
        this.logger.warn(
          { channel, problem: view, invalid: this.stats.invalidEnvelopes },
          'dropped a publication that is not a valid envelope (see docs/PROTOCOL.md)',
        );
      }
      return;
    }
    this.handle(channel, { envelope, view });
  }

  private handle(channel: string, item: Sequenced): void {
    const state = this.states.get(channel);
    if (state?.queue) {
      state.queue.push(item);
      return;
    }
    const offset = item.view.offset;
    if (offset === null) {
      this.output.forward(channel, item);
      return;
    }
    if (state === undefined) {
      this.states.set(channel, { epoch: epochOf(item), offset, queue: null });
      this.output.forward(channel, item);
      return;
    }
    if (!sameEpoch(state.epoch, item)) {
      this.announce(channel, 'epoch changed: the channel history was lost');
      state.epoch = epochOf(item);
      state.offset = offset;
      this.output.forward(channel, item);
      return;
    }
    if (offset <= state.offset) {
      this.stats.duplicatesDropped++;
      return;
    }
    if (offset === state.offset + 1) {
      state.offset = offset;
      this.output.forward(channel, item);
      return;
    }
    this.stats.gapsDetected++;
    state.queue = [item];
    this.logger.warn({ channel, after: state.offset, got: offset }, 'offset gap: filling from history');
    this.repair(channel, state, offset - state.offset - 1);
  }

  private announce(channel: string, reason: string): void {
    this.stats.resyncsSent++;
    this.logger.warn({ channel, reason }, 'publications lost: resync notice sent');
    this.output.resync(channel, reason);
  }

  /** Fetches up to `missing` publications after the state's offset and forwards them, then the queue. */
  private repair(channel: string, state: ChannelState, missing: number): void {
    this.broker.history(channel, state.offset, missing).then(
      (page) => this.applyRepair(channel, state, page),
      (err: Error) => {
        this.logger.warn({ channel, err: err.message }, 'history read for gap repair failed');
        this.applyRepair(channel, state, null);
      },
    );
  }

  private applyRepair(channel: string, state: ChannelState, page: HistoryPage | null, verifying = false): void {
    if (this.states.get(channel) !== state) return;
    const queue = state.queue ?? [];
    const firstQueued = queue.find((q) => q.view.offset !== null);
    const until = firstQueued?.view.offset ?? Infinity;
    const complete = page !== null && page.epoch === state.epoch.toString('latin1') && (page.publications[0]?.offset ?? page.top + 1) === state.offset + 1;
    let repaired = 0;
    if (complete) {
      for (const entry of page.publications) {
        if (entry.offset >= until) break;
        const view = parseEnvelope(entry.envelope);
        if (typeof view === 'string') break;
        state.offset = entry.offset;
        this.output.forward(channel, { envelope: entry.envelope, view });
        repaired++;
      }
    }
    const filled = firstQueued === undefined ? complete : state.offset + 1 === until;
    // A check after a reconnect counts a gap only when something was missing.
    if (verifying && (repaired > 0 || !filled)) this.stats.gapsDetected++;
    if (filled) {
      if (repaired > 0) this.stats.gapsRepaired++;
    } else {
      this.announce(channel, 'publications missed by this server are no longer in history');
      if (firstQueued !== undefined) {
        state.epoch = epochOf(firstQueued);
        state.offset = firstQueued.view.offset! - 1;
      } else if (page !== null) {
        state.epoch = Buffer.from(page.epoch, 'latin1');
        state.offset = page.top;
      }
    }
    state.queue = null;
    for (const item of queue) this.handle(channel, item);
  }

  /**
   * After the broker reconnected: compares every tracked channel with its history and forwards
   * what this process missed while disconnected (or announces what it cannot).
   */
  verifyAll(): void {
    for (const [channel, state] of this.states) {
      if (state.queue !== null) continue;
      state.queue = [];
      this.broker.history(channel, state.offset, Number.MAX_SAFE_INTEGER).then(
        (page) => this.applyRepair(channel, state, page, true),
        (err: Error) => {
          this.logger.warn({ channel, err: err.message }, 'history read after reconnect failed');
          const queue = state.queue ?? [];
          state.queue = null;
          // What arrived meanwhile goes on in order; a gap before it is repaired or announced as usual.
          if (this.states.get(channel) === state) for (const item of queue) this.handle(channel, item);
        },
      );
    }
  }

  /** The last forwarded position of `channel` in this process, or null when none was seen. */
  position(channel: string): { epoch: string; offset: number } | null {
    const state = this.states.get(channel);
    return state === undefined ? null : { epoch: state.epoch.toString('latin1'), offset: state.offset };
  }

  /** Sets a channel's starting point when no publication was seen yet (used by recoveries). */
  observe(channel: string, epoch: string, offset: number): void {
    if (!this.states.has(channel)) this.states.set(channel, { epoch: Buffer.from(epoch, 'latin1'), offset, queue: null });
  }

  /** Drops the state of a channel this process no longer receives. */
  forget(channel: string): void {
    this.states.delete(channel);
  }
}
