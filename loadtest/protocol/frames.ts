/**
 * Hand-written msgpack codec for the few broadcaster frames the load tools touch.
 *
 * The generator decodes millions of publication frames per second, so it reads them in place
 * (no allocation, no channel string) instead of calling a general msgpack decoder. The peers use
 * the encoders to build a publication's wire bytes once per message. Layouts (docs/PROTOCOL.md):
 *   publication  [0, channel:str, offset:uint|nil, data:bin|str]
 *   envelope     [1, data:bin]            (Redis PUBLISH bc:{channel} <envelope>)
 *   publish cmd  [3, id:uint, channel:str, data:bin]
 */

/** Where a decoded publication's data bytes lie inside the frame buffer. */
export interface PublicationView {
  /** offset field, or -1 when nil */
  offset: number;
  /** index of the first data byte */
  dataStart: number;
  /** index one past the last data byte */
  dataEnd: number;
}

/** Bytes needed for a msgpack str header of length n. */
function strHeaderSize(n: number): number {
  return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
}

/** Bytes needed for a msgpack bin header of length n. */
function binHeaderSize(n: number): number {
  return n < 256 ? 2 : n < 65536 ? 3 : 5;
}

function writeStrHeader(buf: Buffer, pos: number, n: number): number {
  if (n < 32) {
    buf[pos] = 0xa0 | n;
    return pos + 1;
  }
  if (n < 256) {
    buf[pos] = 0xd9;
    buf[pos + 1] = n;
    return pos + 2;
  }
  if (n < 65536) {
    buf[pos] = 0xda;
    buf.writeUInt16BE(n, pos + 1);
    return pos + 3;
  }
  buf[pos] = 0xdb;
  buf.writeUInt32BE(n, pos + 1);
  return pos + 5;
}

function writeBinHeader(buf: Buffer, pos: number, n: number): number {
  if (n < 256) {
    buf[pos] = 0xc4;
    buf[pos + 1] = n;
    return pos + 2;
  }
  if (n < 65536) {
    buf[pos] = 0xc5;
    buf.writeUInt16BE(n, pos + 1);
    return pos + 3;
  }
  buf[pos] = 0xc6;
  buf.writeUInt32BE(n, pos + 1);
  return pos + 5;
}

function uintSize(v: number): number {
  return v < 128 ? 1 : v < 256 ? 2 : v < 65536 ? 3 : v < 4294967296 ? 5 : 9;
}

function writeUint(buf: Buffer, pos: number, v: number): number {
  if (v < 128) {
    buf[pos] = v;
    return pos + 1;
  }
  if (v < 256) {
    buf[pos] = 0xcc;
    buf[pos + 1] = v;
    return pos + 2;
  }
  if (v < 65536) {
    buf[pos] = 0xcd;
    buf.writeUInt16BE(v, pos + 1);
    return pos + 3;
  }
  if (v < 4294967296) {
    buf[pos] = 0xce;
    buf.writeUInt32BE(v, pos + 1);
    return pos + 5;
  }
  buf[pos] = 0xcf;
  buf.writeBigUInt64BE(BigInt(v), pos + 1);
  return pos + 9;
}

/** Encodes `[0, channel, offset|nil, data:bin]`, the server-to-client publication frame. */
export function encodePublication(channel: string, data: Uint8Array, offset: number | null = null): Buffer {
  const chLen = Buffer.byteLength(channel);
  const size = 2 + strHeaderSize(chLen) + chLen + (offset === null ? 1 : uintSize(offset)) + binHeaderSize(data.length) + data.length;
  const buf = Buffer.allocUnsafe(size);
  buf[0] = 0x94;
  buf[1] = 0x00;
  let pos = writeStrHeader(buf, 2, chLen);
  pos += buf.write(channel, pos, 'utf8');
  if (offset === null) buf[pos++] = 0xc0;
  else pos = writeUint(buf, pos, offset);
  pos = writeBinHeader(buf, pos, data.length);
  buf.set(data, pos);
  return buf;
}

/** Encodes the Redis envelope `[1, data:bin]`. */
export function encodeEnvelope(data: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(2 + binHeaderSize(data.length) + data.length);
  buf[0] = 0x92;
  buf[1] = 0x01;
  const pos = writeBinHeader(buf, 2, data.length);
  buf.set(data, pos);
  return buf;
}

/** Encodes the client publish command `[3, id, channel, data:bin]`. */
export function encodePublishCommand(id: number, channel: string, data: Uint8Array): Buffer {
  const chLen = Buffer.byteLength(channel);
  const size = 2 + uintSize(id) + strHeaderSize(chLen) + chLen + binHeaderSize(data.length) + data.length;
  const buf = Buffer.allocUnsafe(size);
  buf[0] = 0x94;
  buf[1] = 0x03;
  let pos = writeUint(buf, 2, id);
  pos = writeStrHeader(buf, pos, chLen);
  pos += buf.write(channel, pos, 'utf8');
  pos = writeBinHeader(buf, pos, data.length);
  buf.set(data, pos);
  return buf;
}

/** Reads a msgpack str or bin header at pos; returns [start, end] of its bytes or null. */
function readBytes(buf: Uint8Array, pos: number, end: number, out: [number, number]): boolean {
  if (pos >= end) return false;
  const t = buf[pos]!;
  let len: number;
  let start: number;
  if ((t & 0xe0) === 0xa0) {
    len = t & 0x1f;
    start = pos + 1;
  } else if (t === 0xc4 || t === 0xd9) {
    if (pos + 2 > end) return false;
    len = buf[pos + 1]!;
    start = pos + 2;
  } else if (t === 0xc5 || t === 0xda) {
    if (pos + 3 > end) return false;
    len = (buf[pos + 1]! << 8) | buf[pos + 2]!;
    start = pos + 3;
  } else if (t === 0xc6 || t === 0xdb) {
    if (pos + 5 > end) return false;
    len = ((buf[pos + 1]! << 24) >>> 0) + ((buf[pos + 2]! << 16) | (buf[pos + 3]! << 8) | buf[pos + 4]!);
    start = pos + 5;
  } else {
    return false;
  }
  if (start + len > end) return false;
  out[0] = start;
  out[1] = start + len;
  return true;
}

const span: [number, number] = [0, 0];

/**
 * Decodes a publication frame in place. Returns false when the bytes are not a well-formed
 * `[0, channel, offset|nil, data]` array (the caller counts it as malformed).
 */
export function decodePublication(buf: Uint8Array, start: number, end: number, out: PublicationView): boolean {
  if (end - start < 5 || buf[start] !== 0x94 || buf[start + 1] !== 0x00) return false;
  if (!readBytes(buf, start + 2, end, span)) return false; // channel
  let pos = span[1];
  if (pos >= end) return false;
  const t = buf[pos]!;
  if (t === 0xc0) {
    out.offset = -1;
    pos += 1;
  } else if (t < 0x80) {
    out.offset = t;
    pos += 1;
  } else if (t === 0xcc) {
    out.offset = buf[pos + 1]!;
    pos += 2;
  } else if (t === 0xcd) {
    out.offset = (buf[pos + 1]! << 8) | buf[pos + 2]!;
    pos += 3;
  } else if (t === 0xce) {
    out.offset = ((buf[pos + 1]! << 24) >>> 0) + ((buf[pos + 2]! << 16) | (buf[pos + 3]! << 8) | buf[pos + 4]!);
    pos += 5;
  } else if (t === 0xcf) {
    let v = 0;
    for (let i = 1; i <= 8; i++) v = v * 256 + buf[pos + i]!;
    out.offset = v;
    pos += 9;
  } else if (t === 0xcb && pos + 9 <= end) {
    // msgpackr writes integers above 2^32 as float64
    out.offset = Buffer.from(buf.buffer, buf.byteOffset + pos + 1, 8).readDoubleBE(0);
    pos += 9;
  } else {
    return false;
  }
  if (!readBytes(buf, pos, end, span)) return false;
  if (span[1] !== end) return false;
  out.dataStart = span[0];
  out.dataEnd = span[1];
  return true;
}

/** Decodes the channel name of a publication frame (slow path, for tests and diagnostics). */
export function publicationChannel(buf: Buffer): string | null {
  if (buf.length < 3 || buf[0] !== 0x94 || buf[1] !== 0x00) return null;
  if (!readBytes(buf, 2, buf.length, span)) return null;
  return buf.toString('utf8', span[0], span[1]);
}

/** Decodes a Redis envelope `[1, data]`; returns the data bytes as a view, or null. */
export function decodeEnvelope(buf: Buffer): Buffer | null {
  if (buf.length < 3 || buf[0] !== 0x92 || buf[1] !== 0x01) return null;
  if (!readBytes(buf, 2, buf.length, span) || span[1] !== buf.length) return null;
  return buf.subarray(span[0], span[1]);
}
