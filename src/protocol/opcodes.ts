/** Opcodes of client-to-server command frames: `[opcode, id, ...args]`. */
export const enum Command {
  Subscribe = 1,
  Unsubscribe = 2,
  Publish = 3,
  Ping = 4,
  Refresh = 5,
  Presence = 6,
  PresenceCounts = 7,
}

/** Opcodes of server-to-client frames. */
export const enum Frame {
  Publication = 0,
  Reply = 1,
  Error = 2,
  Subscribed = 3,
  Resync = 4,
  Presence = 5,
}

// Reply and close codes live in the error catalogue (./errors.ts), with their HTTP forms.
export { CloseCode, type CloseCodeValue, ErrorCode, type ErrorCodeValue, type SentErrorCode } from './errors';
