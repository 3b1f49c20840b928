/**
 * A small msgpack codec for the SDK (the browser bundle stays small): nil, booleans, integers
 * (64-bit ones as numbers, or from bigint), float32/64, str, bin, arrays and maps (as plain
 * objects). Extension types (including timestamps) are refused.
 */

const MAX_DEPTH = 100;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const TWO_32 = 0x1_0000_0000;

/** Encodes `value` as msgpack. Objects become maps of their own enumerable keys (undefined values skipped, toJSON honoured). */
export function encode(value: unknown): Uint8Array {
  let buf = new Uint8Array(64);
  let view = new DataView(buf.buffer);
  let pos = 0;
  const ensure = (n: number): void => {
    if (pos + n <= buf.length) return;
    const bigger = new Uint8Array(Math.max(buf.length * 2, pos + n));
    bigger.set(buf);
    buf = bigger;
    view = new DataView(buf.buffer);
  };
  const byte = (b: number): void => {
    ensure(1);
    buf[pos++] = b;
  };
  const head = (b: number, size: 1 | 2 | 4, n: number): void => {
    ensure(1 + size);
    buf[pos++] = b;
    if (size === 1) view.setUint8(pos, n);
    else if (size === 2) view.setUint16(pos, n);
    else view.setUint32(pos, n);
    pos += size;
  };
  const sized = (n: number, fix: number, fixMax: number, b8: number | null, b16: number, b32: number): void => {
    if (n <= fixMax) byte(fix | n);
    else if (b8 !== null && n < 0x100) head(b8, 1, n);
    else if (n < 0x10000) head(b16, 2, n);
    else head(b32, 4, n);
  };
  const bytes = (data: Uint8Array): void => {
    ensure(data.length);
    buf.set(data, pos);
    pos += data.length;
  };
  const integer = (n: number): void => {
    if (n >= 0) {
      if (n < 0x80) byte(n);
      else if (n < 0x100) head(0xcc, 1, n);
      else if (n < 0x10000) head(0xcd, 2, n);
      else if (n < TWO_32) head(0xce, 4, n);
      else {
        head(0xcf, 4, Math.floor(n / TWO_32));
        ensure(4);
        view.setUint32(pos, n >>> 0);
        pos += 4;
      }
    } else if (n >= -0x20) byte(n & 0xff);
    else if (n >= -0x80) {
      ensure(2);
      buf[pos++] = 0xd0;
      view.setInt8(pos++, n);
    } else if (n >= -0x8000) {
      ensure(3);
      buf[pos++] = 0xd1;
      view.setInt16(pos, n);
      pos += 2;
    } else if (n >= -0x8000_0000) {
      ensure(5);
      buf[pos++] = 0xd2;
      view.setInt32(pos, n);
      pos += 4;
    } else {
      const hi = Math.floor(n / TWO_32);
      ensure(9);
      buf[pos++] = 0xd3;
      view.setInt32(pos, hi);
      view.setUint32(pos + 4, n - hi * TWO_32);
      pos += 8;
    }
  };
  const write = (v: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) throw new TypeError(`msgpack: value nested deeper than ${MAX_DEPTH} levels (or circular)`);
    if (v === null || v === undefined) byte(0xc0);
    else if (typeof v === 'boolean') byte(v ? 0xc3 : 0xc2);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) integer(v);
      else {
        ensure(9);
        buf[pos++] = 0xcb;
        view.setFloat64(pos, v);
        pos += 8;
      }
    } else if (typeof v === 'bigint') {
      ensure(9);
      buf[pos++] = v >= 0n ? 0xcf : 0xd3;
      if (v >= 0n) view.setBigUint64(pos, v);
      else view.setBigInt64(pos, v);
      pos += 8;
    } else if (typeof v === 'string') {
      const utf8 = textEncoder.encode(v);
      sized(utf8.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
      bytes(utf8);
    } else if (v instanceof Uint8Array || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
      const data = v instanceof Uint8Array ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      if (data.length < 0x100) head(0xc4, 1, data.length);
      else if (data.length < 0x10000) head(0xc5, 2, data.length);
      else head(0xc6, 4, data.length);
      bytes(data);
    } else if (Array.isArray(v)) {
      sized(v.length, 0x90, 15, null, 0xdc, 0xdd);
      for (const item of v) write(item, depth + 1);
    } else if (typeof v === 'object') {
      const json = (v as { toJSON?: () => unknown }).toJSON;
      if (typeof json === 'function') {
        write(json.call(v), depth + 1);
        return;
      }
      const entries = Object.entries(v).filter(([, item]) => item !== undefined);
      sized(entries.length, 0x80, 15, null, 0xde, 0xdf);
      for (const [key, item] of entries) {
        write(key, depth + 1);
        write(item, depth + 1);
      }
    } else throw new TypeError(`msgpack: cannot encode a ${typeof v}`);
  };
  write(value, 0);
  return buf.slice(0, pos);
}

/** Decodes exactly one msgpack value from `bytes`; throws a RangeError or TypeError for malformed input. */
export function decode(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number): number => {
    if (pos + n > bytes.length) throw new RangeError('msgpack: data ends before the value does');
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => view.getUint8(need(1));
  const u16 = (): number => view.getUint16(need(2));
  const u32 = (): number => view.getUint32(need(4));
  const str = (n: number): string => textDecoder.decode(bytes.subarray(need(n), pos));
  const bin = (n: number): Uint8Array => bytes.slice(need(n), pos);
  const array = (n: number, depth: number): unknown[] => {
    if (n > bytes.length - pos) throw new RangeError('msgpack: array longer than the data');
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(read(depth));
    return out;
  };
  const map = (n: number, depth: number): Record<string, unknown> => {
    if (n * 2 > bytes.length - pos) throw new RangeError('msgpack: map longer than the data');
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = read(depth);
      if (typeof key !== 'string' && typeof key !== 'number') throw new TypeError('msgpack: map keys must be strings or numbers');
      Object.defineProperty(out, String(key), { value: read(depth), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  const read = (depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new RangeError(`msgpack: nested deeper than ${MAX_DEPTH} levels`);
    const b = u8();
    if (b < 0x80) return b;
    if (b < 0x90) return map(b & 0x0f, depth + 1);
    if (b < 0xa0) return array(b & 0x0f, depth + 1);
    if (b < 0xc0) return str(b & 0x1f);
    if (b >= 0xe0) return b - 0x100;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return bin(u8());
      case 0xc5:
        return bin(u16());
      case 0xc6:
        return bin(u32());
      case 0xca:
        return view.getFloat32(need(4));
      case 0xcb:
        return view.getFloat64(need(8));
      case 0xcc:
        return u8();
      case 0xcd:
        return u16();
      case 0xce:
        return u32();
      case 0xcf:
        return u32() * TWO_32 + u32();
      case 0xd0:
        return view.getInt8(need(1));
      case 0xd1:
        return view.getInt16(need(2));
      case 0xd2:
        return view.getInt32(need(4));
      case 0xd3:
        return view.getInt32(need(4)) * TWO_32 + u32();
      case 0xd9:
        return str(u8());
      case 0xda:
        return str(u16());
      case 0xdb:
        return str(u32());
      case 0xdc:
        return array(u16(), depth + 1);
      case 0xdd:
        return array(u32(), depth + 1);
      case 0xde:
        return map(u16(), depth + 1);
      case 0xdf:
        return map(u32(), depth + 1);
      default:
        throw new TypeError(`msgpack: type 0x${b.toString(16)} is not supported (extensions are refused)`);
    }
  };
  const value = read(0);
  if (pos !== bytes.length) throw new RangeError(`msgpack: ${bytes.length - pos} bytes after the value`);
  return value;
}
