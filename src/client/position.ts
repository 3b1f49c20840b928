import type { Position, SubscribeResult } from './codec';

/** What to do with a publication given the channel's position. */
export type Verdict = 'deliver' | 'duplicate' | 'gap';

/**
 * The position bookkeeping of one channel (docs/PROTOCOL.md, "Keeping a position"): which
 * publications reach the application, and the position to recover from.
 */
export class ChannelPosition {
  /** Offset of the last publication delivered (or reported by the server), null when unknown. */
  offset: number | null = null;
  /** The epoch `offset` belongs to, null until the server reported one. */
  epoch: string | null = null;

  constructor(start: Position | null = null) {
    if (start !== null) {
      this.offset = start.offset;
      this.epoch = start.epoch;
    }
  }

  /** The position to recover from, or null when no epoch is known yet. */
  get known(): Position | null {
    return this.offset === null || this.epoch === null ? null : { offset: this.offset, epoch: this.epoch };
  }

  /**
   * Judges a publication: `deliver` (and advance) for the next offset, a publication without
   * offset, or the first one seen; `duplicate` for offset <= last; `gap` when offsets were skipped.
   */
  accept(offset: number | null): Verdict {
    if (offset === null) return 'deliver';
    if (this.offset === null || offset === this.offset + 1) {
      this.offset = offset;
      return 'deliver';
    }
    return offset <= this.offset ? 'duplicate' : 'gap';
  }

  /** Applies a subscribe reply or result frame: same epoch keeps the larger offset, a new epoch starts over. */
  applyResult(result: SubscribeResult | null): void {
    if (result === null) return;
    const sameEpoch = this.epoch === null || this.epoch === result.epoch;
    this.offset = sameEpoch && this.offset !== null ? Math.max(this.offset, result.offset) : result.offset;
    this.epoch = result.epoch;
  }
}
