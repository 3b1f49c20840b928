import type { SentErrorCode } from './opcodes';

/** A client mistake with its documented error code; the connection stays open. */
export class ProtocolError extends Error {
  /** Documented error code sent in the error reply. */
  readonly code: SentErrorCode;
  /** Request id of the command that failed, or null when it could not be read. */
  readonly requestId: number | null;

  constructor(code: SentErrorCode, message: string, requestId: number | null = null) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.requestId = requestId;
  }
}
