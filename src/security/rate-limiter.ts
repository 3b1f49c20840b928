/** Token-bucket state of one connection: four numbers, kept in its socket data. */
export interface Bucket {
  messages: number;
  bytes: number;
  last: number;
}

/** A clock in milliseconds; tests inject their own. */
export type Clock = () => number;

/**
 * Per-connection inbound limits: `messagesPerSecond` commands and `bytesPerSecond` bytes, with
 * bursts of twice those; a limit of 0 is off. `clock` gives the time when a caller passes none.
 */
export class RateLimiter {
  private readonly messageBurst: number;
  private readonly byteBurst: number;

  constructor(
    private readonly messagesPerSecond: number,
    private readonly bytesPerSecond: number,
    private readonly clock: Clock = Date.now,
  ) {
    this.messageBurst = messagesPerSecond * 2;
    this.byteBurst = bytesPerSecond * 2;
  }

  /** A full bucket for a new connection. */
  newBucket(now: number = this.clock()): Bucket {
    return { messages: this.messageBurst, bytes: this.byteBurst, last: now };
  }

  /** Takes one message of `size` bytes; false (and nothing taken) when over a limit. */
  take(bucket: Bucket, size: number, now: number = this.clock()): boolean {
    const elapsed = Math.max(0, now - bucket.last) / 1000;
    bucket.last = now;
    if (this.messagesPerSecond > 0) bucket.messages = Math.min(this.messageBurst, bucket.messages + elapsed * this.messagesPerSecond);
    if (this.bytesPerSecond > 0) bucket.bytes = Math.min(this.byteBurst, bucket.bytes + elapsed * this.bytesPerSecond);
    if (this.messagesPerSecond > 0 && bucket.messages < 1) return false;
    if (this.bytesPerSecond > 0 && bucket.bytes < size) return false;
    if (this.messagesPerSecond > 0) bucket.messages -= 1;
    if (this.bytesPerSecond > 0) bucket.bytes -= size;
    return true;
  }
}
