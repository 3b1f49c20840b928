import type { EnvelopeView } from './envelope';
import { packr } from './msgpack';

const NIL = 0xc0;
const MAX_CACHED_CHANNELS = 10_000;
const headers = new Map<string, Buffer>();

/** The constant start of every publication frame of `channel`: `0x94 0x00 <str channel>`, cached. */
function channelHeader(channel: string): Buffer {
  let header = headers.get(channel);
  if (header === undefined) {
    const encodedName = packr.pack(channel);
    header = Buffer.allocUnsafe(2 + encodedName.length);
    header[0] = 0x94;
    header[1] = 0x00;
    encodedName.copy(header, 2);
    if (headers.size >= MAX_CACHED_CHANNELS) headers.clear();
    headers.set(channel, header);
  }
  return header;
}

/**
 * Builds the wire bytes of the publication frame `[0, channel, offset|nil, data]` from an
 * envelope, copying the already-encoded data and offset elements verbatim (one allocation).
 */
export function buildPublicationFrame(channel: string, envelope: Uint8Array, view: EnvelopeView): Buffer {
  const header = channelHeader(channel);
  const offsetLen = view.offsetStart < 0 ? 1 : view.offsetEnd - view.offsetStart;
  const dataLen = view.dataEnd - view.dataStart;
  const frame = Buffer.allocUnsafe(header.length + offsetLen + dataLen);
  header.copy(frame, 0);
  let pos = header.length;
  if (view.offsetStart < 0) frame[pos++] = NIL;
  else {
    frame.set(envelope.subarray(view.offsetStart, view.offsetEnd), pos);
    pos += offsetLen;
  }
  frame.set(envelope.subarray(view.dataStart, view.dataEnd), pos);
  return frame;
}
