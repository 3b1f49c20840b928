/**
 * Who lost the messages a load run counted as lost: the generator (they arrived after it stopped
 * counting, or were still on their way), the server (it cut slow readers, dropped frames for
 * them, could not repair a gap, lost its broker subscription), or nobody known ("unexplained").
 * Pure: the evidence is gathered elsewhere (the generator's result, the servers' metrics, Redis,
 * the kernel's socket queues) and handed in.
 */
import type { GeneratorLossView } from '../generator/result.js';
import type { ServerCounters } from './server-counters.js';
import type { RedisView } from './redis-view.js';
import type { SocketQueues } from './socket-queues.js';

/**
 * Kinds of cause, each with its own wording. `late`: counted lost, then arrived while the
 * generator waited and counted again; `in-flight`: still on its way when even that wait gave up.
 * Both are delivery that fell behind, not loss; who fell behind is the cause's `side`.
 */
export type LossCauseKind = 'late' | 'in-flight' | 'unanswered' | 'server-cut' | 'closed' | 'server-dropped' | 'server-resync' | 'broker-cut' | 'unexplained';

/** Who fell behind when counting stopped (see whoFellBehind). */
export type BehindSide = 'generator' | 'server' | 'both' | 'unknown';

/** A share of the lost messages and what accounts for it. */
export interface LossCause {
  /** the kind of cause */
  kind: LossCauseKind;
  /** for `late` and `in-flight`: who fell behind */
  side?: BehindSide;
  /** messages it accounts for */
  count: number;
  /** the evidence, in words */
  evidence: string;
}

/** Everything known about one run's loss. */
export interface LossEvidence {
  /** messages counted lost at the end of the drain window */
  lost: number;
  /** the generator's view (where the loss is, the recount) */
  generator: GeneratorLossView;
  /** close reasons of subscribers closed early, as the generator saw them */
  closeReasons: Record<string, number>;
  /** opened subscribers that lost messages, and the most one of them lost */
  subscribersWithLoss: number;
  /** the most one subscriber lost */
  maxLossPerSubscriber: number;
  /** the servers' counters after the run (null: a server without metrics, e.g. a peer) */
  server: ServerCounters | null;
  /**
   * Backlogs when counting stopped: bytes queued toward subscribers (servers' user space and the
   * kernel's socket queues) and bytes Redis held for its pub/sub clients (the servers' subscriptions)
   */
  queuedAtEnd: { serverBufferedBytes: number | null; sockets: SocketQueues | null; pubsubOutputBytes?: number | null } | null;
  /** what Redis said (null: no Redis, or not asked) */
  redis: RedisView | null;
}

/** The attribution of one run's loss. */
export interface LossAttribution {
  /** messages counted lost */
  lost: number;
  /** the causes, largest first; their counts sum to `lost` */
  causes: LossCause[];
  /** one line: "no loss", or each cause with its count */
  verdict: string;
}

/** Redis backlog, bytes, from which the servers count as behind reading their subscription. */
export const BACKLOG_BYTES = 64 * 1024;

/** Bytes per subscriber connection queued toward it from which the generator counts as behind (a few dozen frames). */
export const BACKLOG_BYTES_PER_CONNECTION = 4096;

/** A worker that went this long without a progress report was saturated reading. */
export const SATURATED_GAP_MS = 2000;

/**
 * Who fell behind when counting stopped. The generator: the subscribers' sockets and the
 * servers' buffers held a backlog (>= BACKLOG_BYTES_PER_CONNECTION on average), or one of its
 * workers went SATURATED_GAP_MS without a progress report. The server: Redis held a backlog for
 * a server's subscription, or the publisher had publications without an answer when it stopped
 * (not accepted in time). Both, one, or neither ('unknown').
 */
export function whoFellBehind(e: Pick<LossEvidence, 'queuedAtEnd' | 'generator'>): BehindSide {
  const q = e.queuedAtEnd;
  const down = (q?.serverBufferedBytes ?? 0) + (q?.sockets?.serverSendQueue ?? 0) + (q?.sockets?.clientReceiveQueue ?? 0);
  const connections = Math.max(1, q?.sockets?.connections ?? 1);
  const generator = down / connections >= BACKLOG_BYTES_PER_CONNECTION || e.generator.maxProgressGapMs >= SATURATED_GAP_MS;
  const server = (q?.pubsubOutputBytes ?? 0) >= BACKLOG_BYTES || e.generator.unanswered.publications > 0;
  return generator && server ? 'both' : generator ? 'generator' : server ? 'server' : 'unknown';
}

const WHO: Record<BehindSide, string> = {
  generator: 'generator fell behind',
  server: 'server fell behind',
  both: 'generator and server fell behind',
  unknown: 'delivery fell behind',
};

/**
 * Short words for each kind of cause (the verdict); `n` is the subscribers involved where it
 * matters, `side` who fell behind for late and in-flight messages.
 */
export function causeLabel(kind: LossCauseKind, n = 0, side: BehindSide = 'unknown'): string {
  switch (kind) {
    case 'late':
      return `${WHO[side]} (arrived after counting stopped)`;
    case 'in-flight':
      return `${WHO[side]} (still on the way when counting stopped)`;
    case 'unanswered':
      return 'publications not accepted in time (server behind on publishing)';
    case 'server-cut':
      return `server cut ${n} slow reader${n === 1 ? '' : 's'}`;
    case 'closed':
      return `${n} subscriber${n === 1 ? '' : 's'} closed early`;
    case 'server-dropped':
      return 'server dropped frames for slow readers';
    case 'server-resync':
      return 'server could not repair gaps (resync)';
    case 'broker-cut':
      return "server's broker subscription was cut";
    case 'unexplained':
      return 'unexplained';
  }
}

function fmtReasons(reasons: Record<string, number>): string {
  const list = Object.entries(reasons).sort((a, b) => b[1] - a[1]);
  return list.length === 0 ? 'no close reason seen' : list.map(([r, n]) => `${r} ×${n}`).join(', ');
}

/** True when a close reason is the server's slow-consumer close (4002) or a cut without close frame. */
function slowConsumerReason(reason: string): boolean {
  return /close frame 4002|closed by peer|ECONNRESET|EPIPE/.test(reason);
}

/** Splits a run's loss over its causes, from the evidence. */
export function attributeLoss(e: LossEvidence): LossAttribution {
  if (e.lost <= 0) return { lost: 0, causes: [], verdict: 'no loss' };
  const causes: LossCause[] = [];
  const g = e.generator;
  const rc = g.recount;
  const add = (kind: LossCauseKind, count: number, evidence: string, side?: BehindSide): void => {
    if (count > 0) causes.push(side === undefined ? { kind, count, evidence } : { kind, count, evidence, side });
  };
  const side = whoFellBehind(e);
  const q = e.queuedAtEnd;
  const queueText =
    q === null
      ? 'queues not read'
      : `when counting stopped: ${q.serverBufferedBytes ?? '?'} B in server buffers, ${q.sockets?.serverSendQueue ?? '?'} B in server socket queues, ` +
        `${q.sockets?.clientReceiveQueue ?? '?'} B unread by subscribers, ${q.pubsubOutputBytes ?? '?'} B held by Redis for a server`;
  const behind = `drain ended ${g.drainEnd}, a generator worker went up to ${g.maxProgressGapMs} ms without a progress report; ${queueText}`;

  // 1. counted lost, then arrived while the generator waited and counted again
  let left = e.lost;
  const late = Math.min(left, rc?.late ?? 0);
  add('late', late, `${late} of ${e.lost} arrived during a further ${rc?.waitedMs ?? 0} ms wait (${behind})`, side);
  left -= late;

  // where the rest is: after the recount if there was one, else at the end of the window
  const where = rc?.loss ?? g.atWindowEnd;
  const reasons = rc?.closeReasons ?? e.closeReasons;
  const s = e.server;

  // 2. subscribers closed early lost everything after their close
  const onClosed = Math.min(left, where.onClosed);
  if (onClosed > 0) {
    const slowReasons = Object.keys(reasons).some(slowConsumerReason);
    const serverSaw = s !== null && (s.abnormalCloses > 0 || s.slowConsumerDrops > 0);
    const serverText =
      s === null
        ? 'server keeps no counters'
        : `server: ${s.abnormalCloses} closed without close frame, ${s.slowConsumerDrops} frames dropped for slow readers`;
    add(
      slowReasons && (serverSaw || s === null) ? 'server-cut' : 'closed',
      onClosed,
      `${where.closedWithLoss} subscribers closed early (${fmtReasons(reasons)}); ${serverText}`,
    );
    left -= onClosed;
  }

  let tail = Math.min(left, where.atTail);
  // 3. publications the publisher never had an answer for: not accepted (yet) upstream of the fan-out
  const unanswered = Math.min(tail, left, g.unanswered.deliveries);
  if (unanswered > 0) {
    add('unanswered', unanswered, `${g.unanswered.publications} publications had no answer when the publisher stopped (${g.unanswered.deliveries} deliveries)`);
    left -= unanswered;
    tail -= unanswered;
  }

  // 4. still arriving when even the recount (or, without one, the drain) gave up
  const gaveUp = rc !== null ? rc.end === 'timeout' : g.drainEnd === 'timeout';
  if (tail > 0 && (gaveUp || (rc === null && side !== 'unknown'))) {
    add(
      'in-flight',
      tail,
      `${tail} after the last message of ${where.openWithLoss} open subscribers (${gaveUp ? 'counting gave up while deliveries still moved' : 'a backlog was still queued'}; ${behind})`,
      side,
    );
    left -= tail;
    tail = 0;
  }

  // 5. open subscribers missing messages the server says it did not send
  let open = Math.min(left, where.inGaps + tail);
  if (open > 0 && s !== null && s.slowConsumerDrops > 0) {
    // uWS calls `dropped` once per dropped send; a topic's drain then skips that socket's other
    // frames of the same event-loop turn without a call, so one drop event may hide several frames
    add(
      'server-dropped',
      open,
      `server counted ${s.slowConsumerDrops} drop events for clients over --max-backpressure (one per dropped batch of a socket's frames in one event-loop turn: the frames after the first are not counted)`,
    );
    left -= open;
    open = 0;
  }
  if (open > 0 && s !== null && (s.resyncsSent > 0 || s.gapsDetected > s.gapsRepaired)) {
    add('server-resync', open, `server: ${s.gapsDetected} gaps detected, ${s.gapsRepaired} repaired, ${s.resyncsSent} resync notices`);
    left -= open;
    open = 0;
  }
  const redisKills = e.redis?.outputBufferKills ?? 0;
  if (open > 0 && ((s !== null && s.brokerReconnects + s.brokerProbeFailures > 0) || redisKills > 0)) {
    add(
      'broker-cut',
      open,
      `server: ${s?.brokerReconnects ?? '?'} broker reconnects, ${s?.brokerProbeFailures ?? '?'} probe failures; Redis closed ${redisKills} clients over their output buffer limit`,
    );
    left -= open;
  }

  // 6. the rest
  if (left > 0) {
    const legacy =
      s !== null && s.legacyBuildProcesses > 0 && where.inGaps > 0
        ? ' (on the legacy uWS build the drop policy skips frames for slow readers without counting them)'
        : '';
    const serverText =
      s === null
        ? 'the server keeps no counters'
        : `server: 0 slow-consumer drops or closes, ${s.gapsDetected} gaps, ${s.resyncsSent} resyncs, ${s.brokerReconnects} broker reconnects${legacy}`;
    add(
      'unexplained',
      left,
      `${where.atTail} after the last message and ${where.inGaps} in gaps of ${where.openWithLoss} open subscribers (max ${e.maxLossPerSubscriber} each); ${serverText}`,
    );
  }
  causes.sort((a, b) => b.count - a.count);
  const label = (c: LossCause): string => causeLabel(c.kind, c.kind === 'server-cut' || c.kind === 'closed' ? where.closedWithLoss : 0, c.side);
  return { lost: e.lost, causes, verdict: causes.map((c) => `${label(c)}: ${c.count}`).join('; ') };
}
