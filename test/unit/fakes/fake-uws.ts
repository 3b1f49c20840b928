import { unpackr } from '../../../src/protocol/msgpack';
import type { Socket } from '../../../src/ws/connection';

/** A frame as the client would decode it. */
export type DecodedFrame = unknown[];

/**
 * A fake of the uWS app's topic tree for unit tests: sockets subscribe to topics, `publish`
 * delivers a message to every subscriber (in subscription order), and topic count changes are
 * reported like uWS's `subscription` handler.
 */
export class FakeApp {
  /** Every `publish` call, in order. */
  readonly published: Array<{ topic: string; message: Buffer }> = [];
  private readonly topics = new Map<string, Set<FakeSocket>>();
  /** Set by the test: receives topic count changes like the uWS `subscription` handler. */
  onTopicCount: (topic: string, newCount: number, oldCount: number) => void = () => {};

  publish(topic: string, message: Buffer | ArrayBuffer | string): boolean {
    const bytes = Buffer.isBuffer(message) ? message : Buffer.from(message as ArrayBuffer);
    this.published.push({ topic, message: bytes });
    for (const socket of this.topics.get(topic) ?? []) socket.deliver(bytes);
    return true;
  }

  numSubscribers(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /** A new socket of this app. */
  socket(): FakeSocket {
    return new FakeSocket(this);
  }

  /** True when `socket` is subscribed to `topic`. */
  isOn(socket: FakeSocket, topic: string): boolean {
    return this.topics.get(topic)?.has(socket) ?? false;
  }

  /** Adds or removes `socket` on `topic`; true when that changed something. */
  change(socket: FakeSocket, topic: string, join: boolean): boolean {
    let set = this.topics.get(topic);
    if (set === undefined) this.topics.set(topic, (set = new Set()));
    const before = set.size;
    if (join === set.has(socket)) return false;
    if (join) set.add(socket);
    else set.delete(socket);
    this.onTopicCount(topic, set.size, before);
    return true;
  }
}

/** A fake uWS WebSocket: records the frames it is sent, decoded, and how it was closed. */
export class FakeSocket implements Socket {
  /** Frames received (sent directly or published to a topic it is on), decoded. */
  readonly frames: DecodedFrame[] = [];
  /** The close it was given: `end(code, reason)` or `close()`, or null. */
  closedWith: { code: number | null; reason: string } | null = null;
  /** Bytes the test pretends are queued. */
  buffered = 0;
  /** Calls made after the socket closed (uWS forbids them; a test asserts none). */
  touchedAfterClose = 0;

  constructor(private readonly app: FakeApp) {}

  deliver(bytes: Buffer): void {
    if (this.closedWith !== null) {
      this.touchedAfterClose++;
      return;
    }
    this.frames.push(unpackr.unpack(bytes) as DecodedFrame);
  }

  send(message: Buffer | ArrayBuffer | string): number {
    this.deliver(Buffer.isBuffer(message) ? message : Buffer.from(message as ArrayBuffer));
    return 1;
  }

  subscribe(topic: string | ArrayBuffer): boolean {
    if (this.closedWith !== null) {
      this.touchedAfterClose++;
      return false;
    }
    return this.app.change(this, String(topic), true);
  }

  unsubscribe(topic: string | ArrayBuffer): boolean {
    return this.app.change(this, String(topic), false);
  }

  isSubscribed(topic: string | ArrayBuffer): boolean {
    return this.app.isOn(this, String(topic));
  }

  cork(cb: () => void): never {
    cb();
    return this as never;
  }

  getBufferedAmount(): number {
    return this.buffered;
  }

  end(code?: number, reason?: string | ArrayBuffer): void {
    this.closedWith = { code: code ?? null, reason: String(reason ?? '') };
  }

  close(): void {
    this.closedWith = { code: null, reason: '' };
  }

  /** Offsets of the publications received on `channel`, in order. */
  offsets(channel: string): Array<number | null> {
    return this.frames.filter((f) => f[0] === 0 && f[1] === channel).map((f) => f[2] as number | null);
  }
}
