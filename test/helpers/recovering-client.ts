import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';

/** A channel position as the client keeps it. */
export interface Position {
  offset: number;
  epoch: string;
}

/** What the client saw on one channel. */
export interface ChannelLog {
  /** Data of every publication, in arrival order, as text. */
  data: string[];
  /** Publications whose offset was not above the last one (should stay 0). */
  duplicates: number;
  /** Offset jumps seen (should stay 0 unless a resync was announced). */
  gaps: number;
  /** `recovered` flags of every subscribe result with a position. */
  recovered: boolean[];
  /** Resync notices received. */
  resyncs: number;
}

/**
 * A client that keeps its position per channel and never loses a publication the server can
 * recover: it subscribes in the URL with `positions=1`, reconnects after any close (rotating over
 * `urls`) with `since=` positions, and answers resync notices by resubscribing with its position.
 */
export class RecoveringClient {
  /** Per-channel log of what arrived. */
  readonly logs = new Map<string, ChannelLog>();
  /** Per-channel last position. */
  readonly positions = new Map<string, Position>();
  /** Close codes seen, in order. */
  readonly closes: number[] = [];
  /** Successful connections (the first one included). */
  connections = 0;
  private ws: WebSocket | null = null;
  private stopped = false;
  private nextUrl = 0;
  private nextId = 1;
  private readonly pendingResubscribe = new Map<number, string>();
  private readonly resyncing = new Set<string>();

  constructor(
    private readonly urls: string[],
    private readonly channels: string[],
    private readonly reconnectDelayMs = 50,
  ) {
    for (const channel of channels) this.logs.set(channel, { data: [], duplicates: 0, gaps: 0, recovered: [], resyncs: 0 });
  }

  /** Opens the first connection; resolves once every channel reported its position. */
  async start(): Promise<void> {
    this.connect();
    await this.untilSubscribed();
  }

  /** Resolves when every channel has a position (after a connect or reconnect). */
  async untilSubscribed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.channels.some((c) => !this.positions.has(c)) || this.ws?.readyState !== WebSocket.OPEN) {
      if (Date.now() > deadline) throw new Error('timed out waiting for subscriptions');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private query(): string {
    const since = this.channels.filter((c) => this.positions.has(c)).map((c) => `${c}:${this.positions.get(c)!.offset}:${this.positions.get(c)!.epoch}`);
    return `?channels=${this.channels.join(',')}&positions=1${since.length > 0 ? `&since=${since.join(',')}` : ''}`;
  }

  private connect(): void {
    const url = this.urls[this.nextUrl++ % this.urls.length]! + this.query();
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.on('open', () => this.connections++);
    ws.on('message', (bytes: Buffer) => this.onFrame(unpack(bytes) as unknown[]));
    ws.on('error', () => {});
    ws.on('close', (code: number) => {
      this.closes.push(code);
      this.resyncing.clear();
      this.pendingResubscribe.clear();
      if (!this.stopped) setTimeout(() => this.connect(), this.reconnectDelayMs);
    });
  }

  private onFrame(frame: unknown[]): void {
    switch (frame[0]) {
      case 0:
        return this.onPublication(frame[1] as string, frame[2] as number | null, frame[3] as Buffer | string);
      case 3:
        return this.onResult(frame[1] as string, frame[2] as (Position & { recovered?: boolean }) | null);
      case 4:
        return this.onResync(frame[1] as string);
      case 1: {
        const channel = this.pendingResubscribe.get(frame[1] as number);
        if (channel !== undefined) {
          this.pendingResubscribe.delete(frame[1] as number);
          this.onResult(channel, frame[2] as Position & { recovered?: boolean });
        }
        return;
      }
      default:
        return;
    }
  }

  private onPublication(channel: string, offset: number | null, data: Buffer | string): void {
    const log = this.logs.get(channel);
    if (log === undefined) return;
    const position = this.positions.get(channel);
    if (offset !== null && position !== undefined) {
      if (offset <= position.offset) {
        log.duplicates++;
        return;
      }
      if (offset !== position.offset + 1) {
        // Something was skipped (e.g. dropped for a slow reader): ask for it again from our position.
        log.gaps++;
        this.resubscribe(channel, position);
        return;
      }
      position.offset = offset;
    }
    log.data.push(data.toString());
  }

  private onResult(channel: string, result: (Position & { recovered?: boolean }) | null): void {
    if (result === null) return;
    const log = this.logs.get(channel)!;
    this.resyncing.delete(channel);
    if (result.recovered !== undefined) log.recovered.push(result.recovered);
    const known = this.positions.get(channel);
    // Publications may have arrived before the result: keep the further position of one epoch.
    const offset = known !== undefined && known.epoch === result.epoch ? Math.max(known.offset, result.offset) : result.offset;
    this.positions.set(channel, { offset, epoch: result.epoch });
  }

  private onResync(channel: string): void {
    const log = this.logs.get(channel);
    const position = this.positions.get(channel);
    if (log === undefined || position === undefined) return;
    log.resyncs++;
    this.resubscribe(channel, position);
  }

  private resubscribe(channel: string, position: Position): void {
    if (this.ws === null || this.resyncing.has(channel)) return;
    this.resyncing.add(channel);
    const id = this.nextId++;
    this.pendingResubscribe.set(id, channel);
    this.ws.send(pack([1, id, channel, position.offset, position.epoch]));
  }

  /** Stops reconnecting and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    const ws = this.ws;
    if (ws === null || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close();
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }

  /** The underlying socket of the current connection (for tests that pause reading). */
  get socket(): WebSocket | null {
    return this.ws;
  }
}
