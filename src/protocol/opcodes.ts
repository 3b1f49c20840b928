/** Opcodes of client-to-server command frames: `[opcode, id, ...args]`. */
export const enum Command {
  Subscribe = 1,
  Unsubscribe = 2,
  Publish = 3,
  Ping = 4,
  Refresh = 5,
}

/** Opcodes of server-to-client frames. */
export const enum Frame {
  Publication = 0,
  Reply = 1,
  Error = 2,
  Subscribed = 3,
  Resync = 4,
}

/** Error codes carried by error replies `[2, id, code, message]` (see docs/PROTOCOL.md). */
export const ErrorCode = {
  /** The frame is not valid msgpack, not an array, or a field has the wrong type. */
  BadRequest: 100,
  /** The opcode is not one of the documented commands. */
  UnknownCommand: 101,
  /** The channel name breaks the channel syntax or length limit. */
  InvalidChannel: 102,
  /** The publication data is larger than `maxMessageSize`. */
  MessageTooLarge: 103,
  /** The connection already holds `maxSubscriptionsPerConnection` channels. */
  TooManySubscriptions: 104,
  /** The broker could not accept the publication (for example Redis is down). */
  BrokerUnavailable: 105,
  /** The server is shutting down and accepts no new commands. */
  ShuttingDown: 106,
  /** A subscribe of the same channel on this connection has not been answered yet. */
  SubscriptionInProgress: 107,
  /** The connection's token or the server's channel patterns do not allow this channel. */
  Forbidden: 108,
  /** The connection sent more commands or bytes per second than allowed; the command was dropped. */
  RateLimited: 109,
  /** A refresh token was refused (bad signature, expired, other user, malformed). */
  InvalidToken: 110,
  /** An unexpected server-side failure; the connection stays usable. */
  Internal: 500,
} as const;

/** One of the documented error codes. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** WebSocket close codes the server sends (see docs/PROTOCOL.md). */
export const CloseCode = {
  /** Server shutting down or restarting: reconnect (to this or another process). */
  GoingAway: 1001,
  /** The connection's token expired and no fresh one was sent: reconnect with a new token. */
  TokenExpired: 4001,
} as const;
