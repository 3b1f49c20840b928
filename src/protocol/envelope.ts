import { packr } from './msgpack';

/** Envelope format version, the first element of every envelope. */
export const ENVELOPE_VERSION = 1;

/** Where the parts of an envelope sit inside its bytes (no copy, no decode of the data). */
export interface EnvelopeView {
  /** Start of the msgpack-encoded data element (type byte included). */
  dataStart: number;
  /** End (exclusive) of the data element. */
  dataEnd: number;
  /** Start of the msgpack-encoded offset element, or -1 when absent. */
  offsetStart: number;
  /** End (exclusive) of the offset element. */
  offsetEnd: number;
}

/** Builds the broker envelope `[1, data]` that every publish path sends to the broker. */
export function encodeEnvelope(data: Uint8Array | string): Buffer {
  return packr.pack([ENVELOPE_VERSION, data]);
}

/** Length of a msgpack str/bin element's header and body at `pos`, or -1 when it is neither. */
function stringOrBinaryEnd(buf: Uint8Array, pos: number): number {
  if (pos >= buf.length) return -1;
  const t = buf[pos]!;
  let headerLen: number;
  let bodyLen: number;
  if (t >= 0xa0 && t <= 0xbf) {
    headerLen = 1;
    bodyLen = t & 0x1f;
  } else if (t === 0xc4 || t === 0xd9) {
    if (pos + 2 > buf.length) return -1;
    headerLen = 2;
    bodyLen = buf[pos + 1]!;
  } else if (t === 0xc5 || t === 0xda) {
    if (pos + 3 > buf.length) return -1;
    headerLen = 3;
    bodyLen = (buf[pos + 1]! << 8) | buf[pos + 2]!;
  } else if (t === 0xc6 || t === 0xdb) {
    if (pos + 5 > buf.length) return -1;
    headerLen = 5;
    bodyLen = ((buf[pos + 1]! << 24) >>> 0) + (buf[pos + 2]! << 16) + (buf[pos + 3]! << 8) + buf[pos + 4]!;
  } else {
    return -1;
  }
  const end = pos + headerLen + bodyLen;
  return end <= buf.length ? end : -1;
}

/** End of a msgpack unsigned integer (or whole float64) or nil at `pos`, or -1 when it is something else. */
function uintOrNilEnd(buf: Uint8Array, pos: number): number {
  if (pos >= buf.length) return -1;
  const t = buf[pos]!;
  let end: number;
  if (t <= 0x7f || t === 0xc0) end = pos + 1;
  else if (t === 0xcc) end = pos + 2;
  else if (t === 0xcd) end = pos + 3;
  else if (t === 0xce) end = pos + 5;
  else if (t === 0xcf) end = pos + 9;
  else if (t === 0xcb && pos + 9 <= buf.length) {
    // JavaScript encoders write integers above 2^32 as float64: accept whole, non-negative ones.
    const value = Buffer.from(buf.buffer, buf.byteOffset + pos + 1, 8).readDoubleBE(0);
    if (!Number.isInteger(value) || value < 0) return -1;
    end = pos + 9;
  } else return -1;
  return end <= buf.length ? end : -1;
}

/**
 * Locates the data (and optional offset) of an envelope `[1, data, offset?, epoch?]` without
 * decoding it. Returns a description of the problem when the bytes are not a valid envelope.
 */
export function parseEnvelope(buf: Uint8Array): EnvelopeView | string {
  if (buf.length < 3) return 'envelope too short';
  const head = buf[0]!;
  if (head < 0x92 || head > 0x94) return 'envelope must be a msgpack array of 2 to 4 elements';
  const count = head & 0x0f;
  if (buf[1] !== ENVELOPE_VERSION) return `envelope version must be ${ENVELOPE_VERSION}`;
  const dataEnd = stringOrBinaryEnd(buf, 2);
  if (dataEnd < 0) return 'envelope data must be msgpack bin or str';
  let offsetStart = -1;
  let offsetEnd = -1;
  let end = dataEnd;
  if (count >= 3) {
    offsetEnd = uintOrNilEnd(buf, dataEnd);
    if (offsetEnd < 0) return 'envelope offset must be an unsigned integer or nil';
    offsetStart = dataEnd;
    end = offsetEnd;
  }
  if (count === 4) {
    end = stringOrBinaryEnd(buf, end);
    if (end < 0) return 'envelope epoch must be a msgpack str';
  }
  if (end !== buf.length) return 'envelope has trailing bytes';
  return { dataStart: 2, dataEnd, offsetStart, offsetEnd };
}
