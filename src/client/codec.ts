import { Command, Frame } from '../protocol/opcodes';
import { decode, encode } from './msgpack';

/** A channel position: the offset of the last publication processed and its epoch. */
export interface Position {
  /** Offset within the epoch (1, 2, 3, ...). */
  offset: number;
  /** The channel's epoch: changes whenever the channel's history was lost. */
  epoch: string;
}

/** Result of a subscribe: the channel's position (null without history), and whether a recovery succeeded. */
export interface SubscribeResult extends Position {
  /** Present when the subscribe carried a position: true when every missed publication was sent. */
  recovered?: boolean;
}

/** A decoded server frame (docs/PROTOCOL.md, "Server → client frames"). */
export type ServerFrame =
  | { type: 'publication'; channel: string; offset: number | null; data: Uint8Array | string }
  | { type: 'reply'; id: number; result: unknown }
  | { type: 'error'; id: number | null; code: number; message: string }
  | { type: 'subscribed'; channel: string; result: unknown }
  | { type: 'resync'; channel: string; reason: string }
  | { type: 'presence'; channel: string; joins: PresenceEntry[]; leaves: PresenceEntry[] };

/** One client present on a channel. */
export interface PresenceEntry {
  /** The connection's client id (unique per connection). */
  client: string;
  /** The user (`sub` of its token), null for an anonymous connection. */
  user: string | null;
  /** The token's info claim (server option presenceInfoClaim), or null. */
  info: unknown;
}

/** Encodes any msgpack-encodable value (used for publication data that is neither bytes nor text). */
export function encodeValue(value: unknown): Uint8Array {
  return encode(value);
}

/** Decodes one msgpack value (publication data of channels in the `msgpack` format). */
export function decodeValue(bytes: Uint8Array): unknown {
  return decode(bytes);
}

/** `[1, id, channel]`, or `[1, id, channel, offset, epoch]` to recover from a position; flags 1 (join/leave events) appended when asked. */
export function subscribeFrame(id: number, channel: string, since: Position | null, joinLeave = false): Uint8Array {
  const frame: unknown[] = since === null ? [Command.Subscribe, id, channel] : [Command.Subscribe, id, channel, since.offset, since.epoch];
  if (joinLeave) frame.push(1);
  return encode(frame);
}

/** `[6, id, channel]`: who is present. */
export function presenceFrame(id: number, channel: string): Uint8Array {
  return encode([Command.Presence, id, channel]);
}

/** `[7, id, channel]`: how many are present. */
export function presenceCountsFrame(id: number, channel: string): Uint8Array {
  return encode([Command.PresenceCounts, id, channel]);
}

function readEntry(value: unknown): PresenceEntry | null {
  if (value === null || typeof value !== 'object') return null;
  const { client, user, info } = value as Record<string, unknown>;
  if (typeof client !== 'string' || (user !== null && typeof user !== 'string')) return null;
  return { client, user, info: info ?? null };
}

/** Reads a list of presence entries; null when malformed. */
export function readEntries(value: unknown): PresenceEntry[] | null {
  if (!Array.isArray(value)) return null;
  const entries = value.map(readEntry);
  return entries.every((e) => e !== null) ? (entries as PresenceEntry[]) : null;
}

/** `[2, id, channel]`. */
export function unsubscribeFrame(id: number, channel: string): Uint8Array {
  return encode([Command.Unsubscribe, id, channel]);
}

/** `[3, id, channel, data]` with data as msgpack bin (bytes) or str (text). */
export function publishFrame(id: number, channel: string, data: Uint8Array | string): Uint8Array {
  return encode([Command.Publish, id, channel, data]);
}

/** `[4, id]`. */
export function pingFrame(id: number): Uint8Array {
  return encode([Command.Ping, id]);
}

/** `[5, id, token]`. */
export function refreshFrame(id: number, token: string): Uint8Array {
  return encode([Command.Refresh, id, token]);
}

function isOffset(value: unknown): value is number | null {
  return value === null || (typeof value === 'number' && Number.isInteger(value) && value >= 0);
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Decodes one server frame; throws a TypeError naming what is wrong with a malformed one. */
export function decodeFrame(bytes: Uint8Array): ServerFrame {
  const frame: unknown = decode(bytes);
  if (!Array.isArray(frame) || frame.length < 3) throw new TypeError('server frame is not a msgpack array [opcode, ...]');
  const [op, a, b, c] = frame as unknown[];
  switch (op) {
    case Frame.Publication:
      if (typeof a === 'string' && isOffset(b) && (typeof c === 'string' || c instanceof Uint8Array))
        return { type: 'publication', channel: a, offset: b, data: c };
      break;
    case Frame.Reply:
      if (isId(a)) return { type: 'reply', id: a, result: b };
      break;
    case Frame.Error:
      if ((a === null || isId(a)) && typeof b === 'number' && typeof c === 'string') return { type: 'error', id: a, code: b, message: c };
      break;
    case Frame.Subscribed:
      if (typeof a === 'string') return { type: 'subscribed', channel: a, result: b };
      break;
    case Frame.Resync:
      if (typeof a === 'string' && typeof b === 'string') return { type: 'resync', channel: a, reason: b };
      break;
    case Frame.Presence: {
      const joins = readEntries(b);
      const leaves = readEntries(c);
      if (typeof a === 'string' && joins !== null && leaves !== null) return { type: 'presence', channel: a, joins, leaves };
      break;
    }
  }
  throw new TypeError(`malformed server frame with opcode ${String(op)}`);
}

/** Reads a subscribe result map; null when the channel keeps no history (or the position is unknown). */
export function readSubscribeResult(result: unknown): SubscribeResult | null {
  if (result === null || typeof result !== 'object') return null;
  const { offset, epoch, recovered } = result as Record<string, unknown>;
  if (typeof offset !== 'number' || typeof epoch !== 'string') return null;
  return typeof recovered === 'boolean' ? { offset, epoch, recovered } : { offset, epoch };
}
