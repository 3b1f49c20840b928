/**
 * The contract between the generator worker and its subscriber client implementations
 * (raw socket, `ws` package, socket.io-client).
 */
import { decodePublication, type PublicationView } from '../protocol/frames.js';

/** Which subscriber client a worker uses. */
export type ClientKind = 'raw' | 'ws' | 'socketio' | 'socketio-raw';

/** Where and how one subscriber connects. */
export interface ConnectSpec {
  /** subscriber index inside the worker */
  sub: number;
  /** server host (IP) */
  host: string;
  /** server port */
  port: number;
  /** WebSocket path, e.g. /ws */
  path: string;
  /** channels to subscribe to via the URL */
  channel: string;
  /** extra query parameters appended to the URL (e.g. `token=...`); none when absent or '' */
  query?: string;
  /** source address to bind, or undefined for the kernel's choice */
  localAddress: string | undefined;
  /** source port to bind with localAddress, or undefined for the kernel's choice */
  localPort?: number;
  /** give up the handshake after this many ms */
  timeoutMs: number;
}

/** Callbacks a client invokes; `now` is the receive time in ms (see payload.ts nowMs). */
export interface ClientEvents {
  /** the subscription is established (WebSocket open / socket.io connect) */
  open(sub: number): void;
  /** the connection failed before opening */
  fail(sub: number, reason: string): void;
  /** an open connection closed */
  close(sub: number, reason: string): void;
  /** a publication's data bytes buf[start, end) arrived */
  payload(sub: number, buf: Buffer, start: number, end: number, now: number): void;
  /** a frame that is not a publication arrived (reply, unknown opcode) */
  other(sub: number): void;
  /** a frame that could not be decoded arrived */
  malformed(sub: number): void;
}

/** A live subscriber connection. */
export interface SubscriberClient {
  /** Closes the connection without waiting. */
  close(): void;
}

/** Opens one subscriber connection. */
export type ClientFactory = (spec: ConnectSpec, events: ClientEvents) => SubscriberClient;

const view: PublicationView = { offset: -1, dataStart: 0, dataEnd: 0 };

/** Decodes one broadcaster WebSocket message and forwards its payload or classifies it. */
export function dispatchFrame(events: ClientEvents, sub: number, buf: Buffer, start: number, end: number, now: number): void {
  if (decodePublication(buf, start, end, view)) {
    events.payload(sub, buf, view.dataStart, view.dataEnd, now);
  } else if (end - start >= 2 && (buf[start] === 0x93 || buf[start] === 0x94) && buf[start + 1]! <= 4) {
    events.other(sub);
  } else {
    events.malformed(sub);
  }
}

/** `?channels=<channel>` plus the spec's extra query, for a WebSocket upgrade target. */
export function subscribeQuery(spec: ConnectSpec): string {
  const extra = spec.query !== undefined && spec.query !== '' ? `&${spec.query}` : '';
  return `channels=${encodeURIComponent(spec.channel)}${extra}`;
}
