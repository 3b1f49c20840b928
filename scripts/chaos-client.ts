/**
 * The chaos run's client: the harness's recovering client (harness/recovering-client.ts)
 * recording only publication ids (never payloads), so hundreds of clients fit in one process.
 */
import { type ChannelLog, RecoveringClient } from '../harness/recovering-client';
import type { IdTable } from './chaos-ids';

/** What one client saw on one channel. */
export interface ChannelTally {
  /** Interned ids of the publications processed (offset accepted), in arrival order. */
  got: number[];
  /** Frames with an offset not above the position outside a resync (a correct client drops them). */
  duplicateFrames: number;
  /** Frames ignored while a subscribe-from-a-position was in flight (replayed, or superseded by a reload). */
  ignoredWhileResyncing: number;
  /** Offset jumps seen (a skipped publication, e.g. slow-consumer policy drop). */
  gaps: number;
  /** Resync frames received. */
  resyncs: number;
  /** `recovered: true` results. */
  recoveredTrue: number;
  /** `recovered: false` results: the application must reload (an announced loss). */
  recoveredFalse: number;
  /** Error replies about this channel (e.g. 105 broker unavailable). */
  errors: number;
}

/** A byte that ends the id part of a chaos payload ("<seq>.<attempt>|padding"). */
const ID_END = 0x7c;

/** Reconnect delay after the n-th consecutive failed connection: 50 ms doubling to 1 s, with jitter. */
function backoff(failures: number): number {
  return Math.min(50 * 2 ** failures, 1000) * (0.5 + Math.random());
}

/** A recovering client that tallies publication ids per channel. */
export class ChaosClient {
  private readonly client: RecoveringClient;
  private readonly got = new Map<string, number[]>();

  constructor(urls: string[], channels: string[], ids: Map<string, IdTable>) {
    for (const channel of channels) this.got.set(channel, []);
    this.client = new RecoveringClient(urls, channels, {
      reconnectDelay: backoff,
      keepData: false,
      perMessageDeflate: false,
      onData: (channel, data) => {
        const table = ids.get(channel);
        if (table !== undefined) this.got.get(channel)?.push(table.intern(idOf(data)));
      },
    });
  }

  /** Per-channel tallies. */
  get tallies(): Map<string, ChannelTally> {
    const tallies = new Map<string, ChannelTally>();
    for (const [channel, log] of this.client.logs) tallies.set(channel, tally(log, this.got.get(channel) ?? []));
    return tallies;
  }

  /** Close codes seen, in order. */
  get closes(): number[] {
    return this.client.closes;
  }

  /** Successful connections (the first one included). */
  get connections(): number {
    return this.client.connections;
  }

  /** Time of the last processed publication (ms since 1970). */
  get lastActivity(): number {
    return this.client.lastActivity;
  }

  /** True once every channel has a position and the socket is open. */
  get subscribed(): boolean {
    return this.client.subscribed;
  }

  /** Opens the first connection. */
  start(): void {
    this.client.open();
  }

  /** Stops reading from the socket (a consumer that stalls), also across reconnects. */
  pause(): void {
    this.client.pause();
  }

  /** Reads again. */
  resume(): void {
    this.client.resume();
  }

  /** Closes the connection without a close frame (the client's network drops); it reconnects. */
  cut(): void {
    this.client.cut();
  }

  /** Stops reconnecting and closes the connection. */
  stop(): void {
    this.client.terminate();
  }
}

function tally(log: ChannelLog, got: number[]): ChannelTally {
  return {
    got,
    duplicateFrames: log.duplicates,
    ignoredWhileResyncing: log.ignoredWhileResyncing,
    gaps: log.gaps,
    resyncs: log.resyncs,
    recoveredTrue: log.recovered.filter((r) => r).length,
    recoveredFalse: log.recovered.filter((r) => !r).length,
    errors: log.errors,
  };
}

function idOf(data: Uint8Array | string): string {
  if (typeof data === 'string') {
    const end = data.indexOf('|');
    return end < 0 ? data : data.slice(0, end);
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const end = bytes.indexOf(ID_END);
  return bytes.toString('latin1', 0, end < 0 ? bytes.length : end);
}
