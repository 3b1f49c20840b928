/**
 * Benchmark payload layout shared by the publisher driver and the generator:
 *   [float64 LE send time in ms since the epoch, uint32 LE sequence, uint32 LE publisher id, padding]
 * The send time is `performance.timeOrigin + performance.now()`, so two processes on one host
 * agree on it to within a few microseconds.
 */

/** Smallest payload that holds the header. */
export const PAYLOAD_HEADER_SIZE = 16;

/** Wall-clock milliseconds with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A decoded payload header. */
export interface PayloadHeader {
  /** send time (ms since the epoch) */
  sentAt: number;
  /** per (publisher, channel) sequence number, from 0 */
  seq: number;
  /** publisher id */
  publisher: number;
}

/** Allocates a payload of `size` bytes (>= 16) filled with a recognisable padding. */
export function makePayload(size: number): Buffer {
  const buf = Buffer.alloc(Math.max(size, PAYLOAD_HEADER_SIZE), 0x2e);
  return buf;
}

/** Writes the header into an existing payload buffer (reused between sends). */
export function stampPayload(buf: Buffer, seq: number, publisher: number, sentAt: number = nowMs()): Buffer {
  buf.writeDoubleLE(sentAt, 0);
  buf.writeUInt32LE(seq >>> 0, 8);
  buf.writeUInt32LE(publisher >>> 0, 12);
  return buf;
}

/** Reads the header at `start` of a frame buffer; returns false when the payload is too short. */
export function readPayload(buf: Buffer, start: number, end: number, out: PayloadHeader): boolean {
  if (end - start < PAYLOAD_HEADER_SIZE) return false;
  out.sentAt = buf.readDoubleLE(start);
  out.seq = buf.readUInt32LE(start + 8);
  out.publisher = buf.readUInt32LE(start + 12);
  return true;
}
