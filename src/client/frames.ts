/**
 * The client side of the frame definitions: decoding server frames and encoding commands, by
 * the opcode enums of src/protocol/opcodes.ts (see docs/PROTOCOL.md). The SDK builds on it.
 */
import { packr, unpackr } from '../protocol/msgpack';
import { Command, Frame } from '../protocol/opcodes';

/** A position in a channel, as subscribe results report it. */
export interface ChannelPosition {
  /** Offset of the last publication the client has. */
  offset: number;
  /** The channel's epoch. */
  epoch: string;
  /** Present for a subscription from a position: true when every missed publication was delivered. */
  recovered?: boolean;
}

/** A decoded server frame. */
export type ServerFrame =
  | { kind: Frame.Publication; channel: string; offset: number | null; data: Uint8Array | string }
  | { kind: Frame.Reply; id: number; result: unknown }
  | { kind: Frame.Error; id: number | null; code: number; message: string }
  | { kind: Frame.Subscribed; channel: string; result: ChannelPosition | null }
  | { kind: Frame.Resync; channel: string; reason: string };

/** Decodes one server frame; null for bytes that are not a documented frame. */
export function decodeServerFrame(bytes: Uint8Array): ServerFrame | null {
  let frame: unknown;
  try {
    frame = unpackr.unpack(bytes);
  } catch {
    return null;
  }
  if (!Array.isArray(frame)) return null;
  const [kind, a, b, c] = frame as unknown[];
  switch (kind) {
    case Frame.Publication:
      if (typeof a !== 'string' || !(typeof b === 'number' || b === null) || !(typeof c === 'string' || c instanceof Uint8Array)) return null;
      return { kind, channel: a, offset: b, data: c };
    case Frame.Reply:
      return typeof a === 'number' ? { kind, id: a, result: b ?? null } : null;
    case Frame.Error:
      if (!(typeof a === 'number' || a === null) || typeof b !== 'number' || typeof c !== 'string') return null;
      return { kind, id: a, code: b, message: c };
    case Frame.Subscribed:
      return typeof a === 'string' ? { kind, channel: a, result: (b ?? null) as ChannelPosition | null } : null;
    case Frame.Resync:
      return typeof a === 'string' && typeof b === 'string' ? { kind, channel: a, reason: b } : null;
    default:
      return null;
  }
}

/** Encodes `[1, id, channel]`, or `[1, id, channel, offset, epoch]` to subscribe from a position. */
export function encodeSubscribe(id: number, channel: string, since: { offset: number; epoch: string } | null = null): Buffer {
  return packr.pack(since === null ? [Command.Subscribe, id, channel] : [Command.Subscribe, id, channel, since.offset, since.epoch]);
}

/** Encodes `[2, id, channel]`. */
export function encodeUnsubscribe(id: number, channel: string): Buffer {
  return packr.pack([Command.Unsubscribe, id, channel]);
}

/** Encodes `[3, id, channel, data]` (bytes as bin, strings as str). */
export function encodePublish(id: number, channel: string, data: Uint8Array | string): Buffer {
  return packr.pack([Command.Publish, id, channel, data]);
}

/** Encodes `[4, id]`. */
export function encodePing(id: number): Buffer {
  return packr.pack([Command.Ping, id]);
}

/** Encodes `[5, id, token]`. */
export function encodeRefresh(id: number, token: string): Buffer {
  return packr.pack([Command.Refresh, id, token]);
}
