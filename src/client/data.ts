import { decodeValue, encodeValue } from './codec';

/**
 * How a subscription turns publication data into values. `raw` (default): msgpack str → string,
 * bin → Uint8Array. `msgpack`: str → string, bin → the msgpack value it encodes (what
 * publish() sends for values that are neither strings nor bytes).
 */
export type DataFormat = 'raw' | 'msgpack';

/**
 * The wire form of publish data: a string travels as msgpack str, bytes (Uint8Array, any
 * ArrayBufferView, ArrayBuffer) as bin, any other value msgpack-encoded as bin.
 */
export function toWireData(data: unknown): Uint8Array | string {
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data === undefined) throw new TypeError('publish data is undefined: pass a string, bytes or a msgpack-encodable value');
  return encodeValue(data);
}

/** Publication data as the application sees it in `format`; throws when msgpack data does not decode. */
export function fromWireData(data: Uint8Array | string, format: DataFormat): unknown {
  if (typeof data === 'string' || format === 'raw') return data;
  return decodeValue(data);
}
