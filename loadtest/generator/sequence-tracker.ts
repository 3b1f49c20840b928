/**
 * Per-slot sequence accounting: counts deliveries and classifies each one as in order, after a
 * gap, late (reordered) or duplicate. A slot is one (subscriber, publisher) pair; publishers
 * number their messages per channel from 0, and each subscriber listens to one channel.
 *
 * Gaps are kept as exact half-open ranges of missing sequence numbers, so a late arrival is
 * told apart from a duplicate without a per-message set, and a huge gap costs one range.
 */

import { sumFields } from './sum-fields.js';

/** Final figures for one slot or a sum of slots. */
export interface DeliveryCounts {
  /** frames delivered, duplicates included */
  received: number;
  /** distinct sequence numbers delivered */
  unique: number;
  /** deliveries of a sequence number already delivered */
  duplicates: number;
  /** deliveries that arrived after a higher sequence number */
  reordered: number;
  /** expected distinct messages that never arrived */
  lost: number;
  /**
   * Of `lost`: those after the last message received (the end of the stream never came: cut
   * off, or still on its way when counting stopped); the rest are gaps below it (skipped).
   */
  lostAtTail: number;
  /** distinct messages delivered beyond what was expected (a bug in publisher or server) */
  unexpected: number;
}

/** A zeroed DeliveryCounts. */
export function emptyCounts(): DeliveryCounts {
  return { received: 0, unique: 0, duplicates: 0, reordered: 0, lost: 0, lostAtTail: 0, unexpected: 0 };
}

/** Adds `b` into `a` and returns `a`. */
export function addCounts(a: DeliveryCounts, b: DeliveryCounts): DeliveryCounts {
  return sumFields(a, b);
}

/** Tracks sequence numbers for a fixed number of slots in typed arrays. */
export class SequenceTracker {
  private readonly next: Float64Array;
  private readonly received: Float64Array;
  private readonly duplicates: Float64Array;
  private readonly reordered: Float64Array;
  /** slot -> flat sorted list [from0, to0, from1, to1, ...] of missing ranges [from, to) */
  private readonly missing = new Map<number, number[]>();

  /** Creates a tracker for `slots` slots. */
  constructor(readonly slots: number) {
    this.next = new Float64Array(slots);
    this.received = new Float64Array(slots);
    this.duplicates = new Float64Array(slots);
    this.reordered = new Float64Array(slots);
  }

  /** Records one delivery of `seq` on `slot`. */
  record(slot: number, seq: number): void {
    this.received[slot]! += 1;
    const n = this.next[slot]!;
    if (seq === n) {
      this.next[slot] = n + 1;
    } else if (seq > n) {
      let ranges = this.missing.get(slot);
      if (ranges === undefined) {
        ranges = [];
        this.missing.set(slot, ranges);
      }
      ranges.push(n, seq);
      this.next[slot] = seq + 1;
    } else if (this.fill(slot, seq)) {
      this.reordered[slot]! += 1;
    } else {
      this.duplicates[slot]! += 1;
    }
  }

  /** Removes `seq` from the slot's missing ranges; true when it was missing. */
  private fill(slot: number, seq: number): boolean {
    const ranges = this.missing.get(slot);
    if (ranges === undefined) return false;
    // binary search over ranges by their start
    let lo = 0;
    let hi = ranges.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const from = ranges[mid * 2]!;
      const to = ranges[mid * 2 + 1]!;
      if (seq < from) hi = mid - 1;
      else if (seq >= to) lo = mid + 1;
      else {
        const i = mid * 2;
        if (from === seq && to === seq + 1) ranges.splice(i, 2);
        else if (from === seq) ranges[i] = seq + 1;
        else if (to === seq + 1) ranges[i + 1] = seq;
        else ranges.splice(i, 2, from, seq, seq + 1, to);
        if (ranges.length === 0) this.missing.delete(slot);
        return true;
      }
    }
    return false;
  }

  /** Missing sequence numbers below the highest one seen so far (live gap indicator). */
  missingSoFar(slot: number): number {
    const ranges = this.missing.get(slot);
    if (ranges === undefined) return 0;
    let sum = 0;
    for (let i = 0; i < ranges.length; i += 2) sum += ranges[i + 1]! - ranges[i]!;
    return sum;
  }

  /** Missing sequence numbers over all slots (live gap indicator). */
  totalMissingSoFar(): number {
    let sum = 0;
    for (const slot of this.missing.keys()) sum += this.missingSoFar(slot);
    return sum;
  }

  /** Duplicates over all slots so far. */
  totalDuplicates(): number {
    let sum = 0;
    for (let i = 0; i < this.slots; i++) sum += this.duplicates[i]!;
    return sum;
  }

  /** Frames received on one slot so far. */
  receivedOn(slot: number): number {
    return this.received[slot]!;
  }

  /**
   * Final counts for a slot given how many distinct messages (sequence 0..expected-1) were
   * published to it.
   */
  finish(slot: number, expected: number): DeliveryCounts {
    const received = this.received[slot]!;
    const duplicates = this.duplicates[slot]!;
    const unique = received - duplicates;
    const next = this.next[slot]!;
    // distinct seqs seen = next - missingBelow = unique; anything at or above `expected` is unexpected
    let unexpected = 0;
    if (next > expected) {
      unexpected = next - expected;
      const ranges = this.missing.get(slot);
      if (ranges !== undefined) {
        for (let i = 0; i < ranges.length; i += 2) {
          const from = Math.max(ranges[i]!, expected);
          const to = ranges[i + 1]!;
          if (to > from) unexpected -= to - from;
        }
      }
    }
    const lost = Math.max(0, expected - (unique - unexpected));
    return {
      received,
      unique,
      duplicates,
      reordered: this.reordered[slot]!,
      lost,
      // `next` is one past the highest sequence number seen (0 before any)
      lostAtTail: Math.min(lost, Math.max(0, expected - next)),
      unexpected,
    };
  }
}
