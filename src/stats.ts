import { LatencyHistogram } from './latency-histogram';

/**
 * Plain counters of one process, incremented on the hot path (a field increment costs nothing
 * measurable) and read by the metrics exporter at scrape time.
 */
export interface ServerStats {
  /** WebSocket connections opened since start. */
  connectionsOpened: number;
  /** WebSocket connections closed since start. */
  connectionsClosed: number;
  /** Handshakes refused (bad channels, shutting down). */
  handshakesRefused: number;
  /** Channel subscriptions held by connections right now. */
  subscriptions: number;
  /** Command frames received from clients. */
  commandsIn: number;
  /** Bytes of command frames received from clients. */
  bytesIn: number;
  /** Command frames answered with an error reply. */
  commandErrors: number;
  /** Commands that failed unexpectedly (answered with error 500 and logged at error). */
  internalErrors: number;
  /** Commands dropped by the per-connection rate limit. */
  rateLimited: number;
  /** Publications accepted from clients over WebSocket. */
  publishedWs: number;
  /** Publications accepted over HTTP. */
  publishedHttp: number;
  /** Publications refused because the broker did not accept them. */
  publishFailures: number;
  /** Envelopes received from the broker and fanned out (once per process). */
  fanoutMessages: number;
  /** Frames handed to local subscribers (fan-out messages × local subscribers). */
  framesOut: number;
  /** Bytes handed to local subscribers. */
  bytesOut: number;
  /** Envelopes dropped because they were not valid. */
  invalidEnvelopes: number;
  /** Connections closed without a close frame (1006): network loss, or a send backlog over maxBackpressure. */
  abnormalCloses: number;
  /** Times the broker became ready again after having been ready once. */
  brokerReconnects: number;
  /** Broker connections dropped because a health probe went unanswered (stalled connection). */
  brokerProbeFailures: number;
  /** Offset gaps seen on incoming publications (missed by this process's subscriber). */
  gapsDetected: number;
  /** Gaps filled from history before forwarding newer publications. */
  gapsRepaired: number;
  /** Resync notices sent because publications could not be repaired (history lost or epoch changed). */
  resyncsSent: number;
  /** Publications dropped because their offset was already forwarded. */
  duplicatesDropped: number;
  /** Frames uWS did not send to a slow consumer (over --max-backpressure); reported by the current uWS build only. */
  slowConsumerDrops: number;
  /** Subscriptions with a position whose missed publications were all delivered. */
  recoveriesSucceeded: number;
  /** Subscriptions with a position that could not be recovered (history too short or epoch changed). */
  recoveriesFailed: number;
  /** Publications delivered from history by recoveries. */
  publicationsRecovered: number;
  /** Time from a publication's storage (broker clock) to its local fan-out, in ms. */
  fanoutLatency: LatencyHistogram;
}

/** A zeroed set of counters. */
export function createStats(): ServerStats {
  return {
    connectionsOpened: 0,
    connectionsClosed: 0,
    handshakesRefused: 0,
    subscriptions: 0,
    commandsIn: 0,
    bytesIn: 0,
    commandErrors: 0,
    internalErrors: 0,
    rateLimited: 0,
    publishedWs: 0,
    publishedHttp: 0,
    publishFailures: 0,
    fanoutMessages: 0,
    framesOut: 0,
    bytesOut: 0,
    invalidEnvelopes: 0,
    abnormalCloses: 0,
    brokerReconnects: 0,
    brokerProbeFailures: 0,
    gapsDetected: 0,
    gapsRepaired: 0,
    resyncsSent: 0,
    duplicatesDropped: 0,
    slowConsumerDrops: 0,
    recoveriesSucceeded: 0,
    recoveriesFailed: 0,
    publicationsRecovered: 0,
    fanoutLatency: new LatencyHistogram(),
  };
}
