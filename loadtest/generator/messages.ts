/**
 * IPC messages between the generator coordinator and its worker processes.
 */
import type { ClientKind } from './client-types.js';
import type { DeliveryCounts } from './sequence-tracker.js';
import type { LossBreakdown } from './loss-breakdown.js';

/** What one worker process is asked to do. */
export interface WorkerConfig {
  /** worker number, from 0 */
  workerId: number;
  /** subscriber client implementation */
  client: ClientKind;
  /** server host */
  host: string;
  /** server port */
  port: number;
  /** server ports; global subscriber g connects to ports[g % ports.length] (empty: `port`) */
  ports: number[];
  /** WebSocket path (or socket.io path) */
  path: string;
  /** extra URL query parameters (e.g. `token=...`), or '' */
  query: string;
  /** global index of this worker's first subscriber */
  firstSubscriber: number;
  /** number of subscribers this worker opens */
  count: number;
  /** all channel names; global subscriber g listens to channels[g % channels.length] */
  channels: string[];
  /** source addresses to spread over, or empty for the kernel's choice */
  sourceAddresses: string[];
  /** subscribers per source address before moving to the next one */
  perAddress: number;
  /**
   * 0: the kernel picks each source port. Otherwise subscriber g binds port base + (g % perAddress)
   * on its source address (first attempt only): bind(addr, 0) scans the port range and its cost
   * grows with every socket already bound, which made 100k-socket ramps CPU-bound in the kernel.
   */
  localPortBase: number;
  /** handshakes in flight at once */
  connectConcurrency: number;
  /** handshake timeout, ms */
  timeoutMs: number;
  /** retries of a failed connect (refused, reset, timed out) before it counts as failed */
  connectRetries: number;
  /** first retry back-off, ms (doubles per attempt, with jitter) */
  retryBackoffMs: number;
  /** publisher ids range over 0..maxPublishers-1 */
  maxPublishers: number;
  /** progress message period, ms */
  progressMs: number;
}

/**
 * Coordinator -> worker. `finish` asks for the figures as they stand (`round` 0 at the end of the
 * drain window; a later round recounts after a further wait: what arrived meanwhile was late,
 * not lost). The worker keeps counting after a report.
 */
export type ToWorker = { type: 'start'; config: WorkerConfig } | { type: 'finish'; expected: number[][]; round: number } | { type: 'exit' };

/** Cumulative connection figures of one worker. */
export interface ConnectionCounts {
  /** subscribers whose connection opened */
  opened: number;
  /** subscribers whose connection failed before opening */
  failed: number;
  /** opened connections that closed before the end */
  closed: number;
}

/** Worker -> coordinator, once per progress period. */
export interface ProgressMessage extends ConnectionCounts {
  type: 'progress';
  /** worker number */
  workerId: number;
  /** payloads received so far */
  received: number;
  /** undecodable frames so far */
  malformed: number;
  /** non-publication frames so far */
  other: number;
  /** sequence numbers currently missing below the highest seen */
  missing: number;
  /** duplicates so far */
  duplicates: number;
  /** receive time of the latest payload (ms since the epoch), 0 before any */
  lastReceivedAt: number;
  /** latency histogram of this period, encoded */
  histogram: string;
}

/** Worker -> coordinator, when every subscriber has opened or failed. */
export interface ConnectedMessage extends ConnectionCounts {
  type: 'connected';
  /** worker number */
  workerId: number;
  /** failure reasons and how often each happened */
  failReasons: Record<string, number>;
  /** reasons of connect attempts that were retried, and how often */
  retryReasons: Record<string, number>;
}

/** Worker -> coordinator, final figures after `finish`. */
export interface ReportMessage extends ConnectionCounts {
  type: 'report';
  /** worker number */
  workerId: number;
  /** the `finish` round this answers */
  round: number;
  /** delivery counts summed over opened subscribers */
  counts: DeliveryCounts;
  /** where the loss is: on subscribers closed early, after each open one's last message, or in gaps */
  loss: LossBreakdown;
  /** receive time of the latest payload (ms since the epoch), 0 before any */
  lastReceivedAt: number;
  /** when this report was made (ms since the epoch): minus lastReceivedAt, how quiet it was */
  reportedAt: number;
  /** longest interval between two progress reports, ms: how long one event-loop turn kept the worker busy */
  maxProgressGapMs: number;
  /** opened subscribers that lost at least one message */
  subscribersWithLoss: number;
  /** highest loss of one subscriber */
  maxLoss: number;
  /** fewest and most payloads received by one opened subscriber */
  minReceived: number;
  /** most payloads received by one opened subscriber */
  maxReceived: number;
  /** undecodable frames */
  malformed: number;
  /** non-publication frames */
  other: number;
  /** close reasons of connections closed early */
  closeReasons: Record<string, number>;
  /** failure reasons of connections that never opened */
  failReasons: Record<string, number>;
  /** reasons of connect attempts that were retried */
  retryReasons: Record<string, number>;
  /** whole-run latency histogram, encoded */
  histogram: string;
  /** CPU time (user + system) the worker used since it started, µs */
  cpuUs: number;
}

/** Worker -> coordinator. */
export type FromWorker = ProgressMessage | ConnectedMessage | ReportMessage;
