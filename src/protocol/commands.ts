import { channelNameProblem } from './channel-name';
import { packr, unpackr } from './msgpack';
import { Command, ErrorCode, Frame, type ErrorCodeValue } from './opcodes';
import { ProtocolError } from './protocol-error';

/** A decoded, validated client command. */
export type ClientCommand =
  | { op: Command.Subscribe; id: number; channel: string }
  | { op: Command.Unsubscribe; id: number; channel: string }
  | { op: Command.Publish; id: number; channel: string; data: Uint8Array | string }
  | { op: Command.Ping; id: number };

const MAX_REQUEST_ID = 0xffffffff;

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
    case Command.Subscribe:
      expectLength(frame, 3, 'subscribe', id);
      return { op, id, channel: readChannel(frame, id) };
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
    default:
      throw new ProtocolError(ErrorCode.UnknownCommand, `unknown opcode ${String(op)}`, id);
  }
}

/** Encodes a success reply `[1, id, result]`. */
export function encodeReply(id: number, result: unknown = null): Buffer {
  return packr.pack([Frame.Reply, id, result]);
}

/** Encodes an error reply `[2, id|nil, code, message]`. */
export function encodeError(id: number | null, code: ErrorCodeValue, message: string): Buffer {
  return packr.pack([Frame.Error, id, code, message]);
}
