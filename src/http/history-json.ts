import type { HistoryEntry } from '../broker/broker';
import { parseEnvelope } from '../protocol/envelope';
import { unpackr } from '../protocol/msgpack';

/** One publication as the HTTP history API shows it. */
export interface JsonPublication {
  offset: number;
  /** The data: a JSON value when `encoding` is "json", else base64 text. */
  data: unknown;
  encoding: 'json' | 'base64';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Shows a publication's data as JSON when its bytes (a str's UTF-8 bytes) are valid UTF-8 and
 * parse as JSON; otherwise as base64 of the bytes.
 */
export function toJsonPublication(entry: HistoryEntry): JsonPublication | null {
  const view = parseEnvelope(entry.envelope);
  if (typeof view === 'string') return null;
  const value = unpackr.unpack(entry.envelope.subarray(view.dataStart, view.dataEnd)) as Uint8Array | string;
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  try {
    return { offset: entry.offset, data: JSON.parse(utf8.decode(bytes)) as unknown, encoding: 'json' };
  } catch {
    return { offset: entry.offset, data: bytes.toString('base64'), encoding: 'base64' };
  }
}
