/**
 * Turns what the publisher acknowledged, what the history holds and what every client processed
 * into the chaos figures: delivered, duplicates, out of order, and lost (silent or announced).
 */
import type { ChaosClient } from './chaos-client';
import type { IdTable } from './chaos-ids';

/** A channel's history as GET /v1/channels/{ch}/history returns it, ids only. */
export interface HistoryIds {
  epoch: string;
  /** Interned ids, oldest first. */
  ids: number[];
}

/** Client-side figures of one scenario. */
export interface DeliveryFigures {
  /** Client subscriptions counted (clients x channels each). */
  subscriptions: number;
  /** Publications every subscription should have processed, summed. */
  expected: number;
  /** Distinct publications processed, summed over subscriptions. */
  delivered: number;
  /** Publications processed twice by one subscription (an application would apply them twice). */
  duplicates: number;
  /** Frames with an offset at or below the position (a client following PROTOCOL.md drops them). */
  duplicateFrames: number;
  /** Publications processed in an order other than the history's. */
  outOfOrder: number;
  /** Missing at subscriptions that were never told (no recovered:false): silent loss. */
  lostSilent: number;
  /** Missing at subscriptions that got recovered:false (told to reload): announced loss. */
  lostAnnounced: number;
  /** Subscriptions with an announced loss. */
  subscriptionsTold: number;
  /** recovered:true results received. */
  recoveredTrue: number;
  /** recovered:false results received. */
  recoveredFalse: number;
  /** Resync frames received. */
  resyncFrames: number;
  /** Offset gaps the clients saw (and repaired by resubscribing). */
  clientGaps: number;
  /** Error replies (e.g. 105 while Redis was down). */
  errorReplies: number;
  /** Connections opened beyond the first one per client. */
  reconnects: number;
  /** Close codes the clients saw, with their counts. */
  closeCodes: Record<string, number>;
  /** Acknowledged publications missing from the final history (lost in Redis). */
  ackedNotInHistory: number;
  /** Ids stored twice in the final history. */
  storedTwice: number;
  /** Ids in the final history whose publish was answered with an error (the reply was lost, not the publication). */
  storedNotAcked: number;
}

/** Computes the figures for every channel; `acked` and `history` are per channel. */
export function tally(clients: ChaosClient[], ids: Map<string, IdTable>, acked: Map<string, number[]>, history: Map<string, HistoryIds>): DeliveryFigures {
  const f: DeliveryFigures = {
    subscriptions: 0,
    expected: 0,
    delivered: 0,
    duplicates: 0,
    duplicateFrames: 0,
    outOfOrder: 0,
    lostSilent: 0,
    lostAnnounced: 0,
    subscriptionsTold: 0,
    recoveredTrue: 0,
    recoveredFalse: 0,
    resyncFrames: 0,
    clientGaps: 0,
    errorReplies: 0,
    reconnects: 0,
    closeCodes: {},
    ackedNotInHistory: 0,
    storedTwice: 0,
    storedNotAcked: 0,
  };
  // Every publication known to exist: acknowledged, in the history, or processed by any client.
  const expected = new Map<string, Uint8Array>();
  const rank = new Map<string, Int32Array>();
  for (const [channel, table] of ids) {
    const known = new Uint8Array(table.size);
    for (const id of acked.get(channel) ?? []) known[id] = 1;
    const order = new Int32Array(table.size).fill(-1);
    const stored = new Uint8Array(table.size);
    history.get(channel)?.ids.forEach((id, i) => {
      known[id] = 1;
      if (bump(stored, id) === 1) f.storedTwice++;
      order[id] = i;
    });
    const ok = new Uint8Array(table.size);
    for (const id of acked.get(channel) ?? []) {
      ok[id] = 1;
      if (stored[id] === 0) f.ackedNotInHistory++;
    }
    for (const id of history.get(channel)?.ids ?? []) if (ok[id] === 0) f.storedNotAcked++;
    expected.set(channel, known);
    rank.set(channel, order);
  }
  for (const c of clients) {
    for (const [channel, t] of c.tallies) {
      const known = expected.get(channel);
      if (known !== undefined) for (const id of t.got) known[id] = 1;
    }
  }
  const counts = new Map<string, number>();
  for (const [channel, known] of expected)
    counts.set(
      channel,
      known.reduce((a, b) => a + b, 0),
    );
  for (const c of clients) {
    f.reconnects += Math.max(0, c.connections - 1);
    for (const code of c.closes) f.closeCodes[code] = (f.closeCodes[code] ?? 0) + 1;
    for (const [channel, t] of c.tallies) {
      f.subscriptions++;
      const seen = new Uint8Array(expected.get(channel)!.length);
      const order = rank.get(channel)!;
      let distinct = 0;
      let lastRank = -1;
      for (const id of t.got) {
        if (bump(seen, id) > 0) f.duplicates++;
        else distinct++;
        const r = order[id] ?? -1;
        if (r >= 0) {
          if (r < lastRank) f.outOfOrder++;
          lastRank = r;
        }
      }
      const want = counts.get(channel)!;
      f.expected += want;
      f.delivered += distinct;
      const missing = want - distinct;
      if (t.recoveredFalse > 0) {
        f.lostAnnounced += missing;
        if (missing > 0) f.subscriptionsTold++;
      } else f.lostSilent += missing;
      f.duplicateFrames += t.duplicateFrames;
      f.recoveredTrue += t.recoveredTrue;
      f.recoveredFalse += t.recoveredFalse;
      f.resyncFrames += t.resyncs;
      f.clientGaps += t.gaps;
      f.errorReplies += t.errors;
    }
  }
  return f;
}

/** Subscriptions still missing publications (for the settle wait): their count of missing ids. */
export function missingNow(clients: ChaosClient[], ids: Map<string, IdTable>, acked: Map<string, number[]>): number {
  const known = new Map<string, Uint8Array>();
  for (const [channel, table] of ids) known.set(channel, new Uint8Array(table.size));
  for (const [channel, list] of acked) for (const id of list) known.get(channel)![id] = 1;
  for (const c of clients) for (const [channel, t] of c.tallies) for (const id of t.got) known.get(channel)![id] = 1;
  let missing = 0;
  for (const c of clients) {
    for (const [channel, t] of c.tallies) {
      if (t.recoveredFalse > 0) continue;
      const all = known.get(channel)!;
      const seen = new Uint8Array(all.length);
      let have = 0;
      for (const id of t.got) if (bump(seen, id) === 0) have++;
      missing += all.reduce((a, b) => a + b, 0) - have;
    }
  }
  return missing;
}

/** Increments `counts[id]` and returns its value before. */
function bump(counts: Uint8Array, id: number): number {
  const before = counts[id] ?? 0;
  counts[id] = before + 1;
  return before;
}
