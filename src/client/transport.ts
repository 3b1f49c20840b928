import type { WebSocketConstructor, WebSocketLike } from './websocket-like';

/** The subprotocol the server selects; a token travels as a second entry `bearer.<token>`. */
export const SUBPROTOCOL = 'broadcaster';

/** What a Transport reports to its owner. Nothing is reported after close(). */
export interface TransportEvents {
  /** The WebSocket handshake completed. */
  onOpen(): void;
  /** One binary message arrived (text messages are reported as errors). */
  onMessage(bytes: Uint8Array): void;
  /** The socket closed (after an error too); called once. */
  onClose(code: number, reason: string): void;
  /** A socket-level error or a text frame; the close follows for socket errors. */
  onError(message: string): void;
}

const noop = (): void => {};

/** One WebSocket connection: binary frames in and out, detached from its owner once closed. */
export class Transport {
  private readonly ws: WebSocketLike;
  private done = false;

  constructor(
    WebSocketClass: WebSocketConstructor,
    url: string,
    token: string | null,
    private readonly events: TransportEvents,
  ) {
    const protocols = token === null ? [SUBPROTOCOL] : [SUBPROTOCOL, `bearer.${token}`];
    this.ws = new WebSocketClass(url, protocols) as WebSocketLike;
    this.ws.binaryType = 'arraybuffer';
    this.ws.onopen = () => {
      if (!this.done) events.onOpen();
    };
    this.ws.onmessage = (event) => {
      if (this.done) return;
      const data = event.data;
      if (data instanceof ArrayBuffer) events.onMessage(new Uint8Array(data));
      else if (data instanceof Uint8Array) events.onMessage(data);
      else events.onError('the server sent a text frame; every broadcaster frame is binary msgpack');
    };
    this.ws.onerror = () => {
      if (!this.done) events.onError(`WebSocket error on ${url}`);
    };
    this.ws.onclose = (event) => this.finish(event.code, event.reason);
  }

  /** Sends one binary frame; false when the socket is not open. */
  send(frame: Uint8Array): boolean {
    if (this.done) return false;
    try {
      this.ws.send(frame);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Closes the socket and reports onClose(code, reason) at once, without waiting for the peer
   * (a dead connection may never answer). `code` must be 1000 or 3000-4999.
   */
  close(code: number, reason: string): void {
    if (this.done) return;
    try {
      this.ws.close(code, reason);
    } catch {
      // closing a socket that is still connecting may throw in some implementations
    }
    this.finish(code, reason);
  }

  private finish(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    // Keep an error listener: the ws package throws on an 'error' event nobody listens to.
    this.ws.onopen = this.ws.onmessage = this.ws.onclose = null;
    this.ws.onerror = noop;
    this.events.onClose(code, reason);
  }
}
