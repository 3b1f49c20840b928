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
  /** The publication's offset in its channel, or null when the envelope carries none. */
  offset: number | null;
  /** Start of the epoch string's bytes (after the msgpack header), or -1 when absent. */
  epochStart: number;
  /** End (exclusive) of the epoch string's bytes. */
  epochEnd: number;
  /** When the publication was stored (ms since 1970, by the broker's clock), or null. */
  publishedAt: number | null;
}

/** Longest epoch string, so it always encodes as a msgpack fixstr. */
export const MAX_EPOCH_LENGTH = 31;

// Every envelope builder lives in this file: the two JavaScript ones below, the one for an
// already-encoded data element, and the Lua expression the Redis publish script runs.

/** Builds the broker envelope `[1, data]` without offset (what backends publish straight to Redis). */
export function encodeEnvelope(data: Uint8Array | string): Buffer {
  return packr.pack([ENVELOPE_VERSION, data]);
}

/**
 * Encodes publication data as its msgpack element: bytes as bin, strings as str, in the shortest
 * form (the bytes msgpack encoders write), in one allocation.
 */
export function encodeData(data: Uint8Array | string): Buffer {
  if (typeof data === 'string') {
    const length = Buffer.byteLength(data, 'utf8');
    const head = length < 32 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
    const out = Buffer.allocUnsafe(head + length);
    if (head === 1) out[0] = 0xa0 | length;
    else writeLength(out, head, 0xd9, length);
    out.write(data, head, length, 'utf8');
    return out;
  }
  const length = data.byteLength;
  const head = length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  const out = Buffer.allocUnsafe(head + length);
  writeLength(out, head, 0xc4, length);
  out.set(data, head);
  return out;
}

/** Writes a str8/16/32 (`base` 0xd9) or bin8/16/32 (`base` 0xc4) header of `head` bytes at 0. */
function writeLength(out: Buffer, head: number, base: number, length: number): void {
  if (head === 2) {
    out[0] = base;
    out[1] = length;
  } else if (head === 3) {
    out[0] = base + 1;
    out.writeUInt16BE(length, 1);
  } else {
    out[0] = base + 2;
    out.writeUInt32BE(length, 1);
  }
}

/** Builds the envelope `[1, data]` from an already-encoded data element (channels without history). */
export function encodeUnsequencedEnvelope(dataElement: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + dataElement.length);
  out[0] = 0x92;
  out[1] = ENVELOPE_VERSION;
  out.set(dataElement, 2);
  return out;
}

/**
 * The Lua expression of the Redis publish scripts for what every envelope of one call shares:
 * the epoch and `publishedAt`, the end of `[1, data, offset, epoch, publishedAt]`. A script
 * computes it once per call (`tail`) from the Lua locals `epoch` and `published_at`.
 */
export const LUA_ENVELOPE_TAIL = 'string.char(0xa0 + #epoch) .. epoch .. uint(published_at)';

/**
 * The Lua expression of the Redis publish scripts that builds `[1, data, offset, epoch,
 * publishedAt]`: the same bytes as `encodeSequencedEnvelope`. It reads the Lua locals `data`,
 * `offset` and `tail` (LUA_ENVELOPE_TAIL) and the helper `uint` (a msgpack unsigned integer).
 */
export const LUA_SEQUENCED_ENVELOPE = `string.char(0x95, ${ENVELOPE_VERSION}) .. data .. uint(offset) .. tail`;

/** The Lua function `uint(n)` that LUA_SEQUENCED_ENVELOPE uses: `n` as a msgpack unsigned integer. */
export const LUA_UINT = `
local function uint(n)
  if n < 128 then return string.char(n) end
  if n < 4294967296 then return string.char(0xce, math.floor(n / 16777216), math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256) end
  return string.char(0xcf) .. struct.pack('>I4', math.floor(n / 4294967296)) .. struct.pack('>I4', n % 4294967296)
end
`;

/** Bytes of `n` (a non-negative integer below 2^53) as a msgpack unsigned integer. */
function uintLength(n: number): number {
  return n < 0x80 ? 1 : n <= 0xffffffff ? 5 : 9;
}

/** Writes `n` as a msgpack unsigned integer at `pos` (fixint, uint32 or uint64); returns the end. */
function writeUint(out: Buffer, pos: number, n: number): number {
  if (n < 0x80) {
    out[pos] = n;
    return pos + 1;
  }
  if (n <= 0xffffffff) {
    out[pos] = 0xce;
    out.writeUInt32BE(n, pos + 1);
    return pos + 5;
  }
  out[pos] = 0xcf;
  out.writeUInt32BE(Math.floor(n / 0x100000000), pos + 1);
  out.writeUInt32BE(n % 0x100000000, pos + 5);
  return pos + 9;
}

/**
 * The end of `[1, data, offset, epoch, publishedAt]` that every publication of a channel made at
 * the same millisecond shares: the epoch (msgpack fixstr) and the publish time.
 */
export function envelopeTail(epoch: string, publishedAt: number): Buffer {
  if (epoch.length === 0 || epoch.length > MAX_EPOCH_LENGTH) throw new RangeError(`epoch must be 1-${MAX_EPOCH_LENGTH} ASCII characters`);
  const epochLength = Buffer.byteLength(epoch, 'latin1');
  const out = Buffer.allocUnsafe(1 + epochLength + uintLength(publishedAt));
  out[0] = 0xa0 | epochLength;
  out.write(epoch, 1, epochLength, 'latin1');
  writeUint(out, 1 + epochLength, publishedAt);
  return out;
}

/** Builds `[1, data, offset, epoch, publishedAt]` from an encoded data element and its `envelopeTail`, in one allocation. */
export function encodeEnvelopeWithTail(dataElement: Buffer, offset: number, tail: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + dataElement.length + uintLength(offset) + tail.length);
  out[0] = 0x95;
  out[1] = ENVELOPE_VERSION;
  out.set(dataElement, 2);
  out.set(tail, writeUint(out, 2 + dataElement.length, offset));
  return out;
}

/**
 * Builds the envelope `[1, data, offset, epoch, publishedAt]` from an encoded data element: the
 * same bytes the Redis publish script writes.
 */
export function encodeSequencedEnvelope(dataElement: Buffer, offset: number, epoch: string, publishedAt: number = Date.now()): Buffer {
  return encodeEnvelopeWithTail(dataElement, offset, envelopeTail(epoch, publishedAt));
}

/** Reads the msgpack unsigned integer (or whole float64) at `pos`; the caller checked its type. */
function readUint(buf: Uint8Array, pos: number): number | null {
  const t = buf[pos]!;
  if (t <= 0x7f) return t;
  const view = new DataView(buf.buffer, buf.byteOffset + pos + 1);
  switch (t) {
    case 0xc0:
      return null;
    case 0xcc:
      return view.getUint8(0);
    case 0xcd:
      return view.getUint16(0);
    case 0xce:
      return view.getUint32(0);
    case 0xcf:
      return view.getUint32(0) * 0x100000000 + view.getUint32(4);
    default:
      return view.getFloat64(0);
  }
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
  if (head < 0x92 || head > 0x95) return 'envelope must be a msgpack array of 2 to 5 elements';
  const count = head & 0x0f;
  if (buf[1] !== ENVELOPE_VERSION) return `envelope version must be ${ENVELOPE_VERSION}`;
  const dataEnd = stringOrBinaryEnd(buf, 2);
  if (dataEnd < 0) return 'envelope data must be msgpack bin or str';
  let offsetStart = -1;
  let offsetEnd = -1;
  let offset: number | null = null;
  let end = dataEnd;
  if (count >= 3) {
    offsetEnd = uintOrNilEnd(buf, dataEnd);
    if (offsetEnd < 0) return 'envelope offset must be an unsigned integer or nil';
    offsetStart = dataEnd;
    offset = readUint(buf, offsetStart);
    end = offsetEnd;
  }
  let epochStart = -1;
  let epochEnd = -1;
  if (count >= 4) {
    const t = buf[end];
    if (t === undefined || t <= 0xa0 || t > 0xbf) return 'envelope epoch must be a msgpack fixstr (1-31 characters)';
    epochStart = end + 1;
    end = stringOrBinaryEnd(buf, end);
    if (end < 0) return 'envelope epoch must be a msgpack fixstr (1-31 characters)';
    epochEnd = end;
  }
  let publishedAt: number | null = null;
  if (count === 5) {
    const timeStart = end;
    end = uintOrNilEnd(buf, end);
    if (end < 0) return 'envelope publishedAt must be an unsigned integer (ms since 1970)';
    publishedAt = readUint(buf, timeStart);
  }
  if (end !== buf.length) return 'envelope has trailing bytes';
  return { dataStart: 2, dataEnd, offsetStart, offsetEnd, offset, epochStart, epochEnd, publishedAt };
}
