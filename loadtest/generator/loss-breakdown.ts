/**
 * Where the generator saw messages go missing, per subscriber: on a subscriber the server (or
 * anything else) closed early, after the last message an open subscriber received (the stream's
 * end never arrived: still on its way when counting stopped), or in gaps below it (skipped).
 * The three places point at different culprits, so they are counted apart and summed over
 * subscribers, workers and runs.
 */

import { sumFields } from './sum-fields.js';

/** Loss of a set of subscribers, split by where it happened. */
export interface LossBreakdown {
  /** messages lost by subscribers that closed before the end (whatever their place) */
  onClosed: number;
  /** subscribers that closed before the end and lost messages */
  closedWithLoss: number;
  /** messages lost by open subscribers after the last one each received */
  atTail: number;
  /** messages lost by open subscribers below the last one each received (gaps, head included) */
  inGaps: number;
  /** open subscribers that lost messages */
  openWithLoss: number;
  /** open subscribers with a gap below their last message */
  openWithGaps: number;
}

/** A zeroed LossBreakdown. */
export function emptyBreakdown(): LossBreakdown {
  return { onClosed: 0, closedWithLoss: 0, atTail: 0, inGaps: 0, openWithLoss: 0, openWithGaps: 0 };
}

/** Adds one subscriber's loss (`lostAtTail` of `lost` after its last message) into `into`. */
export function addSubscriberLoss(into: LossBreakdown, lost: number, lostAtTail: number, closedEarly: boolean): LossBreakdown {
  if (lost <= 0) return into;
  if (closedEarly) {
    into.onClosed += lost;
    into.closedWithLoss++;
    return into;
  }
  const tail = Math.min(lost, Math.max(0, lostAtTail));
  into.atTail += tail;
  into.inGaps += lost - tail;
  into.openWithLoss++;
  if (lost > tail) into.openWithGaps++;
  return into;
}

/** Adds `b` into `a` and returns `a`. */
export function addBreakdown(a: LossBreakdown, b: LossBreakdown): LossBreakdown {
  return sumFields(a, b);
}
