import { pack, unpack } from 'msgpackr';

/**
 * A fake WebSocket class for unit tests of the client SDK (never for integration tests): it
 * records every instance and every frame sent, and lets the test play the server.
 */
export class FakeSocket {
  /** Every socket made, in order. */
  static instances: FakeSocket[] = [];
  binaryType = 'blob';
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  /** Frames the client sent, decoded. */
  readonly sent: unknown[][] = [];
  /** Set when the client called close(). */
  closedByClient: { code?: number; reason?: string } | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.instances.push(this);
  }

  /** The most recent socket. */
  static get last(): FakeSocket {
    const socket = FakeSocket.instances.at(-1);
    if (socket === undefined) throw new Error('no FakeSocket was made');
    return socket;
  }

  send(data: Uint8Array): void {
    this.sent.push(unpack(data) as unknown[]);
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
  }

  /** The server accepts the handshake. */
  open(): void {
    this.onopen?.({});
  }

  /** The server sends one frame (a msgpack array). */
  receive(frame: unknown[]): void {
    const bytes = pack(frame);
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }

  /** The connection closes from the server side (or the network). */
  serverClose(code: number, reason = ''): void {
    this.onclose?.({ code, reason });
  }

  /** Frames sent with opcode `op`. */
  sentWith(op: number): unknown[][] {
    return this.sent.filter((frame) => frame[0] === op);
  }
}
