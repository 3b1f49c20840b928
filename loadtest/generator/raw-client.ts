/**
 * A minimal receive-side WebSocket client on a bare net.Socket: one HTTP upgrade request, then
 * an in-place frame parser. It allocates nothing per frame (only when a frame straddles two TCP
 * reads), answers pings and close frames, and timestamps every TCP read once.
 */
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import { nowMs } from '../protocol/payload.js';
import { dispatchFrame, subscribeQuery, type ClientEvents, type ConnectSpec, type SubscriberClient } from './client-types.js';

const KEY = Buffer.from('loadtest-bcast16').toString('base64'); // fixed 16-byte key (RFC 6455 length)
const ACCEPT = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * One read buffer shared by every socket of the process: with `onread`, libuv reads straight
 * into it and the callback parses synchronously, so no Buffer is allocated per read and the
 * Readable stream machinery is skipped. Bytes of an incomplete frame are copied out.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/** Builds a masked (zero key) client control frame. */
function controlFrame(opcode: number, payload: Buffer): Buffer {
  const len = Math.min(payload.length, 125);
  const frame = Buffer.alloc(6 + len);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | len;
  // mask key 0,0,0,0 leaves the payload as is
  payload.copy(frame, 6, 0, len);
  return frame;
}

/** What a raw connection needs from the protocol spoken over it. */
interface RawProtocol {
  /** request target of the upgrade (path and query) */
  target: string;
  /** the subscription is established by the 101 response itself */
  openOnUpgrade: boolean;
  /** a complete data message (opcode 1 text, 2 binary) arrived */
  message(opcode: number, buf: Buffer, start: number, end: number, now: number, link: RawLink): void;
}

/** What a protocol may do with its connection. */
interface RawLink {
  /** sends a masked text frame */
  sendText(text: string): void;
  /** reports the subscription as established */
  markOpen(): void;
}

/** Builds a masked (zero key) client text frame. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len, 0, 0, 0, 0]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 255, 0, 0, 0, 0]);
  return Buffer.concat([head, payload]);
}

/** Opens a raw WebSocket subscriber speaking the broadcaster protocol; see ClientFactory. */
export function openRawClient(spec: ConnectSpec, events: ClientEvents): SubscriberClient {
  return openRawSocket(spec, events, {
    target: `${spec.path}?${subscribeQuery(spec)}`,
    openOnUpgrade: true,
    message(_opcode, buf, start, end, now) {
      dispatchFrame(events, spec.sub, buf, start, end, now);
    },
  });
}

/**
 * Opens a raw Socket.IO v4 subscriber (Engine.IO 4 over WebSocket, default namespace): answers
 * the open packet with a namespace connect, pings with pongs, and takes the binary attachment
 * of each `pub` event (`451-["pub",channel,{"_placeholder":true,"num":0}]` then one binary
 * frame) as the payload. As light per message as the broadcaster raw client, so a Socket.IO
 * server is not measured through socket.io-client's own cost.
 */
export function openRawSocketIoClient(spec: ConnectSpec, events: ClientEvents): SubscriberClient {
  const path = spec.path === '/ws' ? '/socket.io' : spec.path;
  let attachment = false;
  return openRawSocket(spec, events, {
    target: `${path}/?EIO=4&transport=websocket&${subscribeQuery(spec)}`,
    openOnUpgrade: false,
    message(opcode, buf, start, end, now, link) {
      if (opcode === 2) {
        if (attachment) {
          attachment = false;
          events.payload(spec.sub, buf, start, end, now);
        } else events.other(spec.sub);
        return;
      }
      const c0 = buf[start];
      const c1 = buf[start + 1];
      if (c0 === 0x34 /* 4 message */ && c1 === 0x35 /* 5 binary event */) attachment = true;
      else if (c0 === 0x32 /* 2 ping */) link.sendText('3');
      else if (c0 === 0x30 /* 0 open */) link.sendText('40');
      else if (c0 === 0x34 && c1 === 0x30 /* 40 connected */) link.markOpen();
      else if (c0 === 0x34 && c1 === 0x34 /* 44 connect error */) events.malformed(spec.sub);
      else events.other(spec.sub);
    },
  });
}

function openRawSocket(spec: ConnectSpec, events: ClientEvents, protocol: RawProtocol): SubscriberClient {
  const { sub } = spec;
  const socket = net.connect({
    host: spec.host,
    port: spec.port,
    ...(spec.localAddress !== undefined ? { localAddress: spec.localAddress } : {}),
    ...(spec.localAddress !== undefined && spec.localPort !== undefined ? { localPort: spec.localPort } : {}),
    onread: {
      buffer: READ_BUFFER,
      callback(n: number, buf: Uint8Array): boolean {
        onData(buf as Buffer, n);
        return true;
      },
    },
  });
  socket.setNoDelay(true);
  let opened = false;
  let finished = false;
  let head: Buffer | null = Buffer.alloc(0);
  let pending: Buffer | null = null;
  let fragments: Buffer[] | null = null;
  let fragmentOpcode = 2;
  const timer = setTimeout(() => {
    if (!opened) fail('handshake timeout');
  }, spec.timeoutMs);

  function fail(reason: string): void {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.destroy();
    if (opened) events.close(sub, reason);
    else events.fail(sub, reason);
  }

  socket.on('connect', () => {
    socket.write(
      `GET ${protocol.target} HTTP/1.1\r\n` +
        `Host: ${spec.host}:${spec.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
  const link: RawLink = {
    sendText(text) {
      socket.write(textFrame(text));
    },
    markOpen() {
      if (opened || finished) return;
      opened = true;
      clearTimeout(timer);
      events.open(sub);
    },
  };
  socket.on('error', (err) => fail(err.message));
  socket.on('close', () => fail('closed by peer'));
  function onData(shared: Buffer, n: number): void {
    if (finished) return;
    if (head !== null) {
      head = Buffer.concat([head, shared.subarray(0, n)]);
      const idx = head.indexOf(HEADER_END);
      if (idx < 0) {
        if (head.length > 16384) fail('oversized handshake response');
        return;
      }
      const text = head.toString('latin1', 0, idx);
      if (!text.startsWith('HTTP/1.1 101')) {
        fail(`handshake refused: ${text.split('\r\n')[0] ?? ''}`);
        return;
      }
      const m = /sec-websocket-accept:\s*(\S+)/i.exec(text);
      if (m === null || m[1] !== ACCEPT) {
        fail('bad Sec-WebSocket-Accept');
        return;
      }
      const rest = head.subarray(idx + 4);
      head = null;
      if (protocol.openOnUpgrade) link.markOpen();
      if (rest.length > 0) parse(rest, rest.length, true);
      return;
    }
    parse(shared, n, false);
  }

  /** Parses buf[0, n); `owned` tells whether buf may be kept (it is not the shared buffer). */
  function parse(chunk: Buffer, n: number, owned: boolean): void {
    let buf = chunk;
    let len = n;
    if (pending !== null) {
      buf = Buffer.concat([pending, chunk.subarray(0, n)]);
      len = buf.length;
      owned = true;
      pending = null;
    }
    const now = nowMs();
    let pos = 0;
    while (pos + 2 <= len) {
      const b0 = buf[pos]!;
      const b1 = buf[pos + 1]!;
      let plen = b1 & 0x7f;
      let hdr = 2;
      if (plen === 126) {
        if (pos + 4 > len) break;
        plen = (buf[pos + 2]! << 8) | buf[pos + 3]!;
        hdr = 4;
      } else if (plen === 127) {
        if (pos + 10 > len) break;
        plen = buf.readUInt32BE(pos + 2) * 4294967296 + buf.readUInt32BE(pos + 6);
        hdr = 10;
      }
      if (b1 & 0x80) {
        fail('masked server frame');
        return;
      }
      const start = pos + hdr;
      const end = start + plen;
      if (end > len) break;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === 2 || opcode === 1) {
        if (fin) protocol.message(opcode, buf, start, end, now, link);
        else {
          fragments = [Buffer.from(buf.subarray(start, end))];
          fragmentOpcode = opcode;
        }
      } else if (opcode === 0) {
        if (fragments !== null) {
          fragments.push(Buffer.from(buf.subarray(start, end)));
          if (fin) {
            const whole = Buffer.concat(fragments);
            fragments = null;
            protocol.message(fragmentOpcode, whole, 0, whole.length, now, link);
          }
        }
      } else if (opcode === 9) {
        socket.write(controlFrame(0x0a, buf.subarray(start, end)));
      } else if (opcode === 8) {
        socket.end(controlFrame(0x08, buf.subarray(start, Math.min(end, start + 2))));
        const code = plen >= 2 ? buf.readUInt16BE(start) : 1005;
        fail(`close frame ${code}`);
        return;
      }
      pos = end;
    }
    if (pos < len) pending = owned && pos === 0 && len === buf.length ? buf : Buffer.from(buf.subarray(pos, len));
  }

  return {
    close(): void {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
    },
  };
}
