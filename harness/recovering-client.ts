/**
 * The recovering client of tests and the chaos run: it keeps a position per channel exactly as
 * docs/PROTOCOL.md "Keeping a position" says, reconnects after any close with `since=`
 * positions, and answers resync frames and offset gaps with subscribe-from-a-position. What it
 * repairs itself is counted in `repairs`, so a test can assert that the *server* repaired.
 */
import WebSocket from 'ws';
import { type ServerFrame, type SubscribeResult as ChannelPosition, decodeFrame, readSubscribeResult, subscribeFrame } from '../src/client/codec';

/** A channel position as the client keeps it. */
export interface Position {
  offset: number;
  epoch: string;
}

/** What the client saw on one channel. */
export interface ChannelLog {
  /** Data of every publication processed, in arrival order, as text (empty when `keepData` is off). */
  data: string[];
  /** Publications with an offset not above the position outside a resync (a correct server sends none). */
  duplicates: number;
  /** Frames ignored while a subscribe-from-a-position was in flight (replayed, or of a new epoch). */
  ignoredWhileResyncing: number;
  /** Offset jumps seen; each was answered by a repair (a subscribe from the position). */
  gaps: number;
  /** `recovered` flags of every subscribe result with a position. */
  recovered: boolean[];
  /** Resync frames received. */
  resyncs: number;
  /** Error replies about this channel (e.g. 105 broker unavailable). */
  errors: number;
}

/** Settings of a recovering client. */
export interface RecoveringClientOptions {
  /** Delay before reconnecting after the n-th consecutive failed connection (default 50 ms). */
  reconnectDelay?: (failures: number) => number;
  /** Called with every publication processed (in order, once each). */
  onData?: (channel: string, data: Uint8Array | string) => void;
  /** Keep the data of every publication in the channel log as text (default true). */
  keepData?: boolean;
  /** Offer permessage-deflate (default: the ws library's default). */
  perMessageDeflate?: boolean;
}

/** Subscribes in the URL with `positions=1` and keeps every channel's position across closes and gaps. */
export class RecoveringClient {
  /** Per-channel log of what arrived. */
  readonly logs = new Map<string, ChannelLog>();
  /** Per-channel last position. */
  readonly positions = new Map<string, Position>();
  /** Close codes seen, in order. */
  readonly closes: number[] = [];
  /** Successful connections (the first one included). */
  connections = 0;
  /** Subscribes from a position this client sent because it saw an offset gap: repairs the server did not make. */
  repairs = 0;
  /** Time of the last processed publication (ms since 1970). */
  lastActivity = 0;
  private ws: WebSocket | null = null;
  private stopped = false;
  private paused = false;
  private nextUrl = 0;
  private nextId = 1;
  private failures = 0;
  /** Channels with a subscribe-from-a-position in flight, and why. */
  private readonly resyncing = new Map<string, 'gap' | 'resync'>();
  private readonly pending = new Map<number, string>();

  constructor(
    private readonly urls: string[],
    private readonly channels: string[],
    private readonly options: RecoveringClientOptions = {},
  ) {
    for (const channel of channels)
      this.logs.set(channel, { data: [], duplicates: 0, ignoredWhileResyncing: 0, gaps: 0, recovered: [], resyncs: 0, errors: 0 });
  }

  /** Opens the first connection; resolves once every channel reported its position. */
  async start(): Promise<void> {
    this.connect();
    await this.untilSubscribed();
  }

  /** Opens the first connection without waiting. */
  open(): void {
    this.connect();
  }

  /** True once every channel has a position and the socket is open. */
  get subscribed(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && this.channels.every((c) => this.positions.has(c));
  }

  /** Resolves when every channel has a position (after a connect or reconnect). */
  async untilSubscribed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.subscribed) {
      if (Date.now() > deadline) throw new Error('timed out waiting for subscriptions');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private query(): string {
    const since: string[] = [];
    for (const channel of this.channels) {
      const p = this.positions.get(channel);
      if (p !== undefined) since.push(`${channel}:${p.offset}:${p.epoch}`);
    }
    return `?channels=${this.channels.join(',')}&positions=1${since.length > 0 ? `&since=${since.join(',')}` : ''}`;
  }

  private connect(): void {
    const url = `${this.urls[this.nextUrl++ % this.urls.length]}${this.query()}`;
    const ws = new WebSocket(url, this.options.perMessageDeflate === undefined ? {} : { perMessageDeflate: this.options.perMessageDeflate });
    this.ws = ws;
    ws.on('open', () => {
      this.connections++;
      this.failures = 0;
      if (this.paused) this.rawSocket()?.pause();
    });
    ws.on('message', (bytes: Buffer) => this.onFrame(bytes));
    ws.on('error', () => {});
    ws.on('close', (code: number) => {
      if (this.ws !== ws) return;
      this.closes.push(code);
      this.resyncing.clear();
      this.pending.clear();
      if (this.stopped) return;
      setTimeout(() => this.connect(), this.options.reconnectDelay?.(this.failures++) ?? 50);
    });
  }

  private onFrame(bytes: Buffer): void {
    let frame: ServerFrame;
    try {
      frame = decodeFrame(bytes);
    } catch {
      return; // not a documented frame
    }
    switch (frame.type) {
      case 'publication':
        return this.onPublication(frame.channel, frame.offset, frame.data);
      case 'reply': {
        const channel = this.pending.get(frame.id);
        if (channel === undefined) return;
        this.pending.delete(frame.id);
        return this.onResult(channel, readSubscribeResult(frame.result));
      }
      case 'error': {
        // A URL subscription's error names its channel first: "<channel>: ...".
        const channel = frame.id === null ? this.channels.find((c) => frame.message.startsWith(`${c}: `)) : this.pending.get(frame.id);
        if (frame.id !== null) this.pending.delete(frame.id);
        const log = channel === undefined ? undefined : this.logs.get(channel);
        if (log !== undefined && channel !== undefined) {
          log.errors++;
          this.resyncing.delete(channel);
        }
        return;
      }
      case 'subscribed':
        return this.onResult(frame.channel, readSubscribeResult(frame.result));
      case 'resync':
        return this.onResync(frame.channel);
    }
  }

  private onPublication(channel: string, offset: number | null, data: Uint8Array | string): void {
    const log = this.logs.get(channel);
    if (log === undefined) return;
    const position = this.positions.get(channel);
    if (offset !== null && position !== undefined) {
      const resyncing = this.resyncing.get(channel);
      if (offset <= position.offset) {
        // After a resync frame the epoch may have changed: such frames belong to the new epoch.
        if (resyncing === 'resync') log.ignoredWhileResyncing++;
        else log.duplicates++;
        return;
      }
      if (offset !== position.offset + 1) {
        if (resyncing !== undefined) log.ignoredWhileResyncing++;
        else {
          // Something was skipped (e.g. dropped for a slow reader): ask for it again from our position.
          log.gaps++;
          this.repairs++;
          this.resubscribe(channel, position, 'gap');
        }
        return;
      }
      position.offset = offset;
    }
    this.lastActivity = Date.now();
    if (this.options.keepData !== false) log.data.push(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString());
    this.options.onData?.(channel, data);
  }

  private onResult(channel: string, result: ChannelPosition | null): void {
    const log = this.logs.get(channel);
    if (log === undefined || result === null) return;
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
    this.resubscribe(channel, position, 'resync');
  }

  private resubscribe(channel: string, position: Position, why: 'gap' | 'resync'): void {
    if (this.ws === null || this.ws.readyState !== WebSocket.OPEN || this.resyncing.has(channel)) return;
    this.resyncing.set(channel, why);
    const id = this.nextId++;
    this.pending.set(id, channel);
    this.ws.send(subscribeFrame(id, channel, position));
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

  /** Stops reconnecting and closes the connection (with a close frame, then by force after 2 s). */
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

  /** Stops reconnecting and drops the connection at once. */
  terminate(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  /** The underlying socket of the current connection (for tests that pause reading). */
  get socket(): WebSocket | null {
    return this.ws;
  }
}
