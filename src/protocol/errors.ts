/**
 * The error catalogue: every documented failure once, with each form it takes — the reply code
 * of an error frame `[2, id, code, message]`, the WebSocket close code, and the HTTP status with
 * its JSON `error` string. docs/PROTOCOL.md's tables are checked against it by a test.
 */

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
  /** Reserved, never sent (see ReservedErrorCodes): it once meant "shutting down". */
  ShuttingDown: 106,
  /** A subscribe of the same channel on this connection has not been answered yet. */
  SubscriptionInProgress: 107,
  /** The connection's token or the server's channel patterns do not allow this channel. */
  Forbidden: 108,
  /** The connection sent more commands or bytes per second than allowed; the command was dropped. */
  RateLimited: 109,
  /** A refresh token was refused (bad signature, expired, other user, malformed). */
  InvalidToken: 110,
  /** Presence was asked of a channel outside `presenceNamespaces`. */
  PresenceDisabled: 111,
  /** An unexpected server-side failure; the connection stays usable. */
  Internal: 500,
} as const;

/** One of the documented error codes. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Reply codes this version never sends, kept so that no other failure is given their number.
 * 106 (shutting down): shutdown closes every socket with 1001 in the step that starts it, and
 * uWS reads no further frame from a socket it is closing, so no command arrives after it began.
 */
export const ReservedErrorCodes: ReadonlySet<ErrorCodeValue> = new Set([ErrorCode.ShuttingDown]);

/** An error code the server sends in a reply (any documented code but the reserved ones). */
export type SentErrorCode = Exclude<ErrorCodeValue, typeof ErrorCode.ShuttingDown>;

/** WebSocket close codes the server sends (see docs/PROTOCOL.md). */
export const CloseCode = {
  /** Server shutting down or restarting: reconnect (to this or another process). */
  GoingAway: 1001,
  /** The connection's token expired and no fresh one was sent: reconnect with a new token. */
  TokenExpired: 4001,
  /** The connection fell too far behind (its backlog passed maxBackpressure): reconnect with positions. */
  SlowConsumer: 4002,
} as const;

/** One of the documented close codes. */
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** An HTTP form of a failure: its status and the `error` string of the JSON body. */
export interface HttpFailure {
  /** HTTP status code. */
  readonly status: number;
  /** The `error` field of the `{ "error": ..., "message": ... }` body. */
  readonly error: string;
}

/** One documented failure and the forms it takes; a form it never takes is absent. */
export interface Failure {
  /** Error reply code on the WebSocket. */
  readonly reply?: SentErrorCode;
  /** WebSocket close code. */
  readonly close?: CloseCodeValue;
  /** HTTP answer (handshake refusal, HTTP API, admin port). */
  readonly http?: HttpFailure;
}

const http = (status: number, error: string): HttpFailure => Object.freeze({ status, error });

/** Every documented failure, by name. */
export const Failures = Object.freeze({
  /** Malformed frame or field. */
  badRequest: { reply: ErrorCode.BadRequest },
  /** Opcode outside the documented commands. */
  unknownCommand: { reply: ErrorCode.UnknownCommand },
  /** A channel name breaks the syntax (or the handshake URL is malformed). */
  invalidChannel: { reply: ErrorCode.InvalidChannel, http: http(400, 'invalid_channel') },
  /** Publication data over `maxMessageSize`. */
  messageTooLarge: { reply: ErrorCode.MessageTooLarge, http: http(413, 'message_too_large') },
  /** Over `maxSubscriptionsPerConnection`. */
  tooManySubscriptions: { reply: ErrorCode.TooManySubscriptions },
  /** The broker did not accept a publication or could not be read. */
  brokerUnavailable: { reply: ErrorCode.BrokerUnavailable, http: http(503, 'broker_unavailable') },
  /** The process is draining: handshakes refused, sockets closed with 1001 (reply 106 is reserved, never sent). */
  shuttingDown: { close: CloseCode.GoingAway, http: http(503, 'shutting_down') },
  /** A subscribe of the channel is still unanswered on this connection. */
  subscriptionInProgress: { reply: ErrorCode.SubscriptionInProgress },
  /** The channel is not allowed for this connection (subscribe, publish, or a handshake channel). */
  forbiddenChannel: { reply: ErrorCode.Forbidden, http: http(403, 'forbidden_channel') },
  /** Over the per-connection command or byte rate. */
  rateLimited: { reply: ErrorCode.RateLimited },
  /** A refresh token was refused, or there is no token to refresh. */
  invalidToken: { reply: ErrorCode.InvalidToken },
  /** Presence asked of a channel outside `presenceNamespaces` (command or HTTP). */
  presenceDisabled: { reply: ErrorCode.PresenceDisabled, http: http(404, 'no_presence') },
  /** The token expired without a refresh. */
  tokenExpired: { close: CloseCode.TokenExpired },
  /** A slow consumer under the close policy, or a catch-up that cannot keep up. */
  slowConsumer: { close: CloseCode.SlowConsumer },
  /** An unexpected failure while running a command (logged, counted, answered; the connection stays open). */
  internal: { reply: ErrorCode.Internal },
  /** A token or API key is required and missing, or the token was refused at the handshake. */
  unauthorized: { http: http(401, 'unauthorized') },
  /** The API key is not one of the configured keys. */
  forbiddenKey: { http: http(403, 'forbidden') },
  /** No `apiKeys` are set and the peer address is outside `trustedNetworks`. */
  untrustedNetwork: { http: http(401, 'untrusted_network') },
  /** The handshake's Origin is not in `allowedOrigins`. */
  originNotAllowed: { http: http(403, 'origin_not_allowed') },
  /** The client address holds `maxConnectionsPerIp` connections. */
  tooManyFromAddress: { http: http(429, 'too_many_connections') },
  /** The process holds `maxConnections` connections. */
  processFull: { http: http(503, 'too_many_connections') },
  /** A plain HTTP request to `/ws`. */
  upgradeRequired: { http: http(426, 'upgrade_required') },
  /** An HTTP publish with an empty body (or a batch item with empty data). */
  emptyBody: { http: http(400, 'empty_body') },
  /** A batch publish body that is not the documented JSON or msgpack, or an item of the wrong shape. */
  invalidBatch: { http: http(400, 'invalid_batch') },
  /** An HTTP publish's Idempotency-Key header, or a batch item's idempotency_key, breaks the key syntax. */
  invalidIdempotencyKey: { http: http(400, 'invalid_idempotency_key') },
  /** History `since` or `limit` is not a non-negative integer. */
  invalidParameter: { http: http(400, 'invalid_parameter') },
  /** The channel keeps no history. */
  noHistory: { http: http(404, 'no_history') },
  /** No such route. */
  notFound: { http: http(404, 'not_found') },
  /** A method the route does not take. */
  methodNotAllowed: { http: http(405, 'method_not_allowed') },
  /** The admin port could not collect the metrics. */
  metricsFailed: { http: http(500, 'metrics_failed') },
} as const satisfies Record<string, Failure>);

/** The failures that have an HTTP form. */
export type HttpFailureName = { [K in keyof typeof Failures]: (typeof Failures)[K] extends { http: HttpFailure } ? K : never }[keyof typeof Failures];

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The HTTP status line text of `status`, e.g. "404 Not Found" (what uWS `writeStatus` takes). */
export function statusLine(status: number): string {
  const text = STATUS_TEXT[status];
  if (text === undefined) throw new RangeError(`no status text for HTTP ${status}: add it to STATUS_TEXT in src/protocol/errors.ts`);
  return `${status} ${text}`;
}
