import { ErrorCode } from '../protocol/opcodes';

export { ErrorCode };

/**
 * Codes of failures the SDK detects itself (below 100, never sent by the server). Server error
 * codes (100-111, 500; 106 is reserved, never sent) are in ErrorCode and docs/PROTOCOL.md.
 */
export const ClientErrorCode = {
  /** The command was made while the client was not connected; nothing was sent. */
  NotConnected: 1,
  /** The connection closed before the reply came: a publish may or may not have happened. */
  ConnectionLost: 2,
  /** No reply within `requestTimeout`. */
  Timeout: 3,
  /** close() was called. */
  Closed: 4,
  /** A frame or publication data could not be decoded. */
  DecodeFailed: 5,
  /** The token function threw or returned no string. */
  TokenUnavailable: 6,
} as const;

/** Error replies worth retrying: the same command can succeed later on this or another connection. */
const TEMPORARY = new Set<number>([ErrorCode.BrokerUnavailable, ErrorCode.SubscriptionInProgress, ErrorCode.RateLimited, ErrorCode.Internal]);

/** A failure with its documented code: a server error reply (100-500) or an SDK code (below 100). */
export class BroadcasterError extends Error {
  /** The documented code: ErrorCode (server) or ClientErrorCode (SDK). */
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = 'BroadcasterError';
    this.code = code;
  }

  /** True when retrying the same command later may succeed (105, 107, 109, 500, and SDK codes 1-3). */
  get temporary(): boolean {
    return (
      TEMPORARY.has(this.code) ||
      this.code === ClientErrorCode.NotConnected ||
      this.code === ClientErrorCode.ConnectionLost ||
      this.code === ClientErrorCode.Timeout
    );
  }
}
