import { channelNameProblem } from './channel-name';
import { frameShapeProblem } from './frame-shape';
import { packr, unpackr } from './msgpack';
import { Command, ErrorCode, Frame, type SentErrorCode } from './opcodes';
import { ProtocolError } from './protocol-error';

/** A decoded, validated client command. */
export type ClientCommand =
  | { op: Command.Subscribe; id: number; channel: string; since: RecoveryPosition | null; joinLeave: boolean }
  | { op: Command.Unsubscribe; id: number; channel: string }
  | { op: Command.Publish; id: number; channel: string; data: Uint8Array | string }
  | { op: Command.Ping; id: number }
  | { op: Command.Refresh; id: number; token: string }
  | { op: Command.Presence | Command.PresenceCounts; id: number; channel: string };

const MAX_REQUEST_ID = 0xffffffff;

/** Flags of a subscribe command (its last element). */
export const enum SubscribeFlag {
  /** Send this subscriber the channel's join and leave events (presence channels). */
  JoinLeave = 1,
}

/** A client's last seen position in a channel, from which it asks to recover. */
export interface RecoveryPosition {
  /** Offset of the last publication the client processed. */
  offset: number;
  /** Epoch the offset belongs to. */
  epoch: string;
}

/** Longest epoch accepted from clients (server epochs are 12 characters). */
const MAX_CLIENT_EPOCH = 64;

/** Checks an offset and epoch given by a client; returns the position or a problem description. */
export function checkPosition(offset: unknown, epoch: unknown): RecoveryPosition | string {
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return 'offset must be an unsigned integer';
  if (typeof epoch !== 'string' || epoch.length === 0 || epoch.length > MAX_CLIENT_EPOCH) return `epoch must be a string of 1-${MAX_CLIENT_EPOCH} characters`;
  return { offset, epoch };
}

function readChannel(frame: unknown[], id: number): string {
  const channel = frame[2];
  const problem = channelNameProblem(channel);
  if (problem !== null) {
    if (typeof channel !== 'string') throw new ProtocolError(ErrorCode.BadRequest, problem, id);
    throw new ProtocolError(ErrorCode.InvalidChannel, problem, id);
  }
  return channel as string;
}

function expectLength(frame: unknown[], length: number, name: string, id: number): void {
  if (frame.length !== length) {
    throw new ProtocolError(ErrorCode.BadRequest, `${name} takes ${length} elements, got ${frame.length}`, id);
  }
}

/**
 * Decodes one client frame into a command. Throws a ProtocolError carrying the documented
 * code (and the request id when it could be read) for anything malformed.
 */
export function decodeCommand(bytes: Uint8Array, maxMessageSize: number): ClientCommand {
  const shape = frameShapeProblem(bytes);
  if (shape !== null) throw new ProtocolError(ErrorCode.BadRequest, shape);
  let frame: unknown;
  try {
    frame = unpackr.unpack(bytes);
  } catch {
    throw new ProtocolError(ErrorCode.BadRequest, 'frame is not valid msgpack');
  }
  if (!Array.isArray(frame) || frame.length < 2) {
    throw new ProtocolError(ErrorCode.BadRequest, 'frame must be a msgpack array [opcode, id, ...]');
  }
  const [op, id] = frame as [unknown, unknown];
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_REQUEST_ID) {
    throw new ProtocolError(ErrorCode.BadRequest, 'request id must be an unsigned 32-bit integer');
  }
  switch (op) {
    case Command.Subscribe: {
      if (frame.length < 3 || frame.length > 6) {
        throw new ProtocolError(
          ErrorCode.BadRequest,
          `subscribe takes 3 elements [1, id, channel], 5 with a position [1, id, channel, offset, epoch], and one more for flags; got ${frame.length}`,
          id,
        );
      }
      const channel = readChannel(frame, id);
      const withPosition = frame.length >= 5;
      const flags = frame.length === 4 ? frame[3] : frame.length === 6 ? frame[5] : 0;
      if (flags !== 0 && flags !== SubscribeFlag.JoinLeave) {
        throw new ProtocolError(ErrorCode.BadRequest, 'subscribe flags must be 0 or 1 (1: send join and leave events)', id);
      }
      const joinLeave = flags === SubscribeFlag.JoinLeave;
      if (!withPosition) return { op, id, channel, since: null, joinLeave };
      const position = checkPosition(typeof frame[3] === 'bigint' ? Number(frame[3]) : frame[3], frame[4]);
      if (typeof position === 'string') throw new ProtocolError(ErrorCode.BadRequest, position, id);
      return { op, id, channel, since: position, joinLeave };
    }
    case Command.Unsubscribe:
      expectLength(frame, 3, 'unsubscribe', id);
      return { op, id, channel: readChannel(frame, id) };
    case Command.Publish: {
      expectLength(frame, 4, 'publish', id);
      const channel = readChannel(frame, id);
      const data: unknown = frame[3];
      if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
        throw new ProtocolError(ErrorCode.BadRequest, 'publish data must be msgpack bin or str', id);
      }
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      if (size > maxMessageSize) {
        throw new ProtocolError(ErrorCode.MessageTooLarge, `data is ${size} bytes, the limit is ${maxMessageSize}`, id);
      }
      return { op, id, channel, data };
    }
    case Command.Ping:
      expectLength(frame, 2, 'ping', id);
      return { op, id };
    case Command.Refresh: {
      expectLength(frame, 3, 'refresh', id);
      const token: unknown = frame[2];
      if (typeof token !== 'string' || token.length === 0)
        throw new ProtocolError(ErrorCode.BadRequest, 'refresh takes [5, id, token] with the token as a msgpack str', id);
      return { op, id, token };
    }
    case Command.Presence:
    case Command.PresenceCounts:
      expectLength(frame, 3, op === Command.Presence ? 'presence' : 'presence counts', id);
      return { op, id, channel: readChannel(frame, id) };
    default:
      throw new ProtocolError(ErrorCode.UnknownCommand, `unknown opcode ${String(op)}`, id);
  }
}

/** Encodes a success reply `[1, id, result]`. */
export function encodeReply(id: number, result: unknown = null): Buffer {
  return packr.pack([Frame.Reply, id, result]);
}

/** Encodes the result frame of a URL subscription `[3, channel, result]`. */
export function encodeSubscribed(channel: string, result: unknown): Buffer {
  return packr.pack([Frame.Subscribed, channel, result]);
}

/** Encodes a resync notice `[4, channel, reason]`: publications of the channel were lost. */
export function encodeResync(channel: string, reason: string): Buffer {
  return packr.pack([Frame.Resync, channel, reason]);
}

/** Encodes an error reply `[2, id|nil, code, message]`. */
export function encodeError(id: number | null, code: SentErrorCode, message: string): Buffer {
  return packr.pack([Frame.Error, id, code, message]);
}
