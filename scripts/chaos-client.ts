/**
 * A lean recovering WebSocket client for the chaos run: it keeps positions exactly as
 * docs/PROTOCOL.md "Keeping a position" says, and records only publication ids (never payloads),
 * so hundreds of clients fit in one process.
 */
import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';
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

interface Position {
  offset: number;
  epoch: string;
}

type Result = (Position & { recovered?: boolean }) | null;

/** A byte that ends the id part of a chaos payload ("<seq>.<attempt>|padding"). */
const ID_END = 0x7c;

/** Reconnect delay after the n-th consecutive failed connection: 50 ms doubling to 1 s, with jitter. */
function backoff(failures: number): number {
  return Math.min(50 * 2 ** failures, 1000) * (0.5 + Math.random());
}

/**
 * Subscribes in the URL with `positions=1`, reconnects after any close (rotating over `urls`)
 * with `since=` positions, answers resync frames and offset gaps with subscribe-from-a-position.
 */
export class ChaosClient {
  /** Per-channel tallies. */
  readonly tallies = new Map<string, ChannelTally>();
  /** Close codes seen, in order. */
  readonly closes: number[] = [];
  /** Successful connections (the first one included). */
  connections = 0;
  /** Time of the last processed publication (ms since epoch). */
  lastActivity = 0;
  private readonly positions = new Map<string, Position>();
  /** Channels with a subscribe-from-a-position in flight, and why. */
  private readonly resyncing = new Map<string, 'gap' | 'resync'>();
  private readonly pending = new Map<number, string>();
  private ws: WebSocket | null = null;
  private stopped = false;
  private nextUrl = 0;
  private nextId = 1;
  private failures = 0;
  private paused = false;

  constructor(
    private readonly urls: string[],
    private readonly channels: string[],
    private readonly ids: Map<string, IdTable>,
  ) {
    for (const channel of channels) {
      this.tallies.set(channel, { got: [], duplicateFrames: 0, ignoredWhileResyncing: 0, gaps: 0, resyncs: 0, recoveredTrue: 0, recoveredFalse: 0, errors: 0 });
    }
  }

  /** Opens the first connection. */
  start(): void {
    this.connect();
  }

  /** True once every channel has a position and the socket is open. */
  get subscribed(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && this.channels.every((c) => this.positions.has(c));
  }

  private query(): string {
    const since = this.channels.filter((c) => this.positions.has(c)).map((c) => `${c}:${this.positions.get(c)!.offset}:${this.positions.get(c)!.epoch}`);
    return `?channels=${this.channels.join(',')}&positions=1${since.length > 0 ? `&since=${since.join(',')}` : ''}`;
  }

  private connect(): void {
    const ws = new WebSocket(this.urls[this.nextUrl++ % this.urls.length]! + this.query(), { perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      this.connections++;
      this.failures = 0;
    });
    ws.on('message', (bytes: Buffer) => this.onFrame(unpack(bytes) as unknown[]));
    ws.on('error', () => {});
    ws.on('close', (code: number) => {
      if (this.ws !== ws) return;
      this.closes.push(code);
      this.resyncing.clear();
      this.pending.clear();
      if (this.stopped) return;
      setTimeout(() => this.connect(), backoff(this.failures++));
    });
    if (this.paused) ws.once('open', () => this.rawSocket()?.pause());
  }

  private onFrame(frame: unknown[]): void {
    switch (frame[0]) {
      case 0:
        return this.onPublication(frame[1] as string, frame[2] as number | null, frame[3] as Buffer | string);
      case 1: {
        const channel = this.pending.get(frame[1] as number);
        if (channel === undefined) return;
        this.pending.delete(frame[1] as number);
        return this.onResult(channel, frame[2] as Result);
      }
      case 2: {
        const channel = frame[1] === null ? this.channels.find((c) => String(frame[3]).startsWith(`${c}: `)) : this.pending.get(frame[1] as number);
        if (frame[1] !== null) this.pending.delete(frame[1] as number);
        const tally = channel === undefined ? undefined : this.tallies.get(channel);
        if (tally !== undefined && channel !== undefined) {
          tally.errors++;
          this.resyncing.delete(channel);
        }
        return;
      }
      case 3:
        return this.onResult(frame[1] as string, frame[2] as Result);
      case 4:
        return this.onResync(frame[1] as string);
      default:
        return;
    }
  }

  private onPublication(channel: string, offset: number | null, data: Buffer | string): void {
    const tally = this.tallies.get(channel);
    const position = this.positions.get(channel);
    if (tally === undefined || position === undefined) return;
    if (offset !== null) {
      const resyncing = this.resyncing.get(channel);
      if (offset <= position.offset) {
        // After a resync frame the epoch may have changed: such frames belong to the new epoch.
        if (resyncing === 'resync') tally.ignoredWhileResyncing++;
        else tally.duplicateFrames++;
        return;
      }
      if (offset !== position.offset + 1) {
        if (resyncing !== undefined) tally.ignoredWhileResyncing++;
        else {
          tally.gaps++;
          this.resubscribe(channel, position, 'gap');
        }
        return;
      }
      position.offset = offset;
    }
    this.lastActivity = Date.now();
    tally.got.push(this.ids.get(channel)!.intern(idOf(data)));
  }

  private onResult(channel: string, result: Result): void {
    const tally = this.tallies.get(channel);
    if (tally === undefined || result === null) return;
    this.resyncing.delete(channel);
    if (result.recovered === true) tally.recoveredTrue++;
    if (result.recovered === false) tally.recoveredFalse++;
    const known = this.positions.get(channel);
    const offset = known !== undefined && known.epoch === result.epoch ? Math.max(known.offset, result.offset) : result.offset;
    this.positions.set(channel, { offset, epoch: result.epoch });
  }

  private onResync(channel: string): void {
    const tally = this.tallies.get(channel);
    const position = this.positions.get(channel);
    if (tally === undefined || position === undefined) return;
    tally.resyncs++;
    this.resubscribe(channel, position, 'resync');
  }

  private resubscribe(channel: string, position: Position, why: 'gap' | 'resync'): void {
    if (this.ws === null || this.ws.readyState !== WebSocket.OPEN || this.resyncing.has(channel)) return;
    this.resyncing.set(channel, why);
    const id = this.nextId++;
    this.pending.set(id, channel);
    this.ws.send(pack([1, id, channel, position.offset, position.epoch]));
  }

  private rawSocket(): { pause(): void; resume(): void } | null {
    return (this.ws as unknown as { _socket?: { pause(): void; resume(): void } } | null)?._socket ?? null;
  }

  /** Stops reading from the socket (a consumer that stalls), also across reconnects. */
  pause(): void {
    this.paused = true;
    this.rawSocket()?.pause();
  }

  /** Reads again. */
  resume(): void {
    this.paused = false;
    this.rawSocket()?.resume();
  }

  /** Closes the connection without a close frame (the client's network drops); it reconnects. */
  cut(): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.terminate();
  }

  /** Stops reconnecting and closes the connection. */
  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }
}

function idOf(data: Buffer | string): string {
  if (typeof data === 'string') {
    const end = data.indexOf('|');
    return end < 0 ? data : data.slice(0, end);
  }
  const end = data.indexOf(ID_END);
  return data.toString('latin1', 0, end < 0 ? data.length : end);
}
