/**
 * Gathers a load run's loss evidence at the right moments and attributes the loss: the bytes
 * still queued toward subscribers and the servers' counters when counting stops, the counters
 * again once every count (a recount included) is taken but before the subscribers close (their
 * own closes would count as abnormal), and Redis's view at the end.
 */
import type { LoadResult } from '../generator/result.js';
import { attributeLoss, type LossAttribution, type LossEvidence } from './attribute-loss.js';
import type { RedisView } from './redis-view.js';
import { counterDelta, scrapeCounters, type ServerCounters } from './server-counters.js';
import { readSocketQueues, type SocketQueues } from './socket-queues.js';

/** The evidence beside the generator's own view. */
export type ExternalEvidence = Pick<LossEvidence, 'server' | 'queuedAtEnd' | 'redis'>;

/** Where to look. */
export interface LossProbeTargets {
  /** broadcaster admin ports (/metrics); empty for servers without counters */
  adminPorts: readonly number[];
  /** the servers' WebSocket ports (their connections' kernel queues) */
  serverPorts: readonly number[];
  /** reads what Redis says (null: no Redis) */
  redis?: () => RedisView | null;
}

/** One run's loss evidence, gathered through the generator's hooks. */
export class LossProbe {
  private serverAtStart: ServerCounters | null = null;
  private serverAtEnd: ServerCounters | null = null;
  private socketsAtEnd: SocketQueues | null = null;
  private serverCounted: ServerCounters | null = null;
  private redisAtEnd: RedisView | null = null;

  /** Looks at `targets`. */
  constructor(private readonly targets: LossProbeTargets) {}

  /** Call before the run when the servers served earlier runs: their counters count from here. */
  async atStart(): Promise<void> {
    this.serverAtStart = await scrapeCounters(this.targets.adminPorts);
  }

  /** Call from the generator's onDrained hook: counting stops now. */
  async atDrained(): Promise<void> {
    this.socketsAtEnd = readSocketQueues(this.targets.serverPorts);
    this.redisAtEnd = this.targets.redis?.() ?? null;
    this.serverAtEnd = this.sinceStart(await scrapeCounters(this.targets.adminPorts));
  }

  /** Call from the generator's onCounted hook: every figure is taken, the subscribers are still open. */
  async atCounted(): Promise<void> {
    this.serverCounted = this.sinceStart(await scrapeCounters(this.targets.adminPorts));
  }

  private sinceStart(now: ServerCounters | null): ServerCounters | null {
    return now === null ? null : counterDelta(now, this.serverAtStart);
  }

  /** The evidence gathered, Redis read now. */
  evidence(): ExternalEvidence {
    return {
      server: this.serverCounted ?? this.serverAtEnd,
      queuedAtEnd: {
        serverBufferedBytes: this.serverAtEnd?.backpressureBytes ?? null,
        sockets: this.socketsAtEnd,
        pubsubOutputBytes: this.redisAtEnd?.maxPubsubOutputBytes ?? null,
      },
      redis: this.targets.redis?.() ?? null,
    };
  }

  /** Attributes `result`'s loss with the evidence gathered. */
  attribute(result: LoadResult): { loss: LossAttribution; evidence: ExternalEvidence } {
    const evidence = this.evidence();
    const loss = attributeLoss({
      lost: result.delivery.lost,
      generator: result.loss,
      closeReasons: result.connections.closeReasons,
      subscribersWithLoss: result.delivery.subscribersWithLoss,
      maxLossPerSubscriber: result.delivery.maxLossPerSubscriber,
      ...evidence,
    });
    return { loss, evidence };
  }
}

function kb(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? '?' : `${Math.round(bytes / 1024)} KiB`;
}

/** What the servers, the kernel and Redis reported, in words. */
export function describeEvidence(e: ExternalEvidence): string {
  const s = e.server;
  const parts: string[] = [];
  if (s === null) parts.push('servers: no counters (not a broadcaster, or /metrics unreachable)');
  else
    parts.push(
      `servers: ${s.slowConsumerDrops} slow-consumer drops, ${s.abnormalCloses} closed without close frame, ` +
        `gaps ${s.gapsDetected} seen / ${s.gapsRepaired} repaired, ${s.resyncsSent} resyncs, ${s.brokerReconnects} broker reconnects`,
    );
  const q = e.queuedAtEnd;
  if (q !== null)
    parts.push(
      `when counting stopped: ${kb(q.serverBufferedBytes)} in server buffers, ${kb(q.sockets?.serverSendQueue)} in server socket queues, ` +
        `${kb(q.sockets?.clientReceiveQueue)} unread by subscribers, ${kb(q.pubsubOutputBytes)} held by Redis for a server's subscription`,
    );
  if (e.redis !== null) parts.push(`Redis: ${e.redis.outputBufferKills} output-limit closes, pub/sub output max ${kb(e.redis.maxPubsubOutputBytes)}`);
  return parts.join('; ');
}
