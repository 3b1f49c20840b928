/** Unit tests for the raw WebSocket subscriber client: handshake, framing across reads, control frames. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { openRawClient } from '../generator/raw-client.js';
import type { ClientEvents } from '../generator/client-types.js';
import { encodePublication } from '../protocol/frames.js';

function serverFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0, len]) : len < 65536 ? Buffer.from([0, 126, len >> 8, len & 255]) : Buffer.alloc(10);
  if (len >= 65536) {
    head[1] = 127;
    head.writeUInt32BE(0, 2);
    head.writeUInt32BE(len, 6);
  }
  head[0] = (fin ? 0x80 : 0) | opcode;
  return Buffer.concat([head, payload]);
}

interface Seen {
  opened: number;
  payloads: Buffer[];
  other: number;
  malformed: number;
  closed: string[];
  failed: string[];
}

function recorder(): { events: ClientEvents; seen: Seen } {
  const seen: Seen = { opened: 0, payloads: [], other: 0, malformed: 0, closed: [], failed: [] };
  const events: ClientEvents = {
    open: () => void seen.opened++,
    fail: (_s, r) => void seen.failed.push(r),
    close: (_s, r) => void seen.closed.push(r),
    payload: (_s, buf, start, end) => void seen.payloads.push(Buffer.from(buf.subarray(start, end))),
    other: () => void seen.other++,
    malformed: () => void seen.malformed++,
  };
  return { events, seen };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('raw client parses frames split across reads and answers ping and close', { timeout: 60_000 }, async () => {
  const fromClient: Buffer[] = [];
  let requestLine = '';
  const server = net.createServer((sock) => {
    let head = Buffer.alloc(0);
    sock.on('data', async (d: Buffer) => {
      if (requestLine !== '') {
        fromClient.push(d);
        return;
      }
      head = Buffer.concat([head, d]);
      const text = head.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      requestLine = text.split('\r\n')[0]!;
      const key = /Sec-WebSocket-Key: (\S+)/i.exec(text)![1]!;
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      const p1 = encodePublication('news', Buffer.alloc(20, 1));
      const p2 = encodePublication('news', Buffer.alloc(300, 2)); // 16-bit length
      const p3 = encodePublication('news', Buffer.alloc(70000, 3)); // 64-bit length
      const whole = encodePublication('news', Buffer.alloc(40, 4));
      const stream = Buffer.concat([
        Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`),
        serverFrame(2, p1),
        serverFrame(2, p2),
        serverFrame(2, p3),
        serverFrame(2, whole.subarray(0, 10), false),
        serverFrame(0, whole.subarray(10), true),
        serverFrame(2, Buffer.from([0x93, 0x01, 0x05, 0xc3])), // a reply
        serverFrame(2, Buffer.from('garbage')),
        serverFrame(9, Buffer.from('pi')),
      ]);
      // dribble the bytes in small uneven pieces so every header and body straddles reads
      for (let i = 0; i < stream.length; ) {
        const n = 1 + (i % 7) * 300;
        sock.write(stream.subarray(i, i + n));
        i += n;
        await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, 50));
      sock.write(serverFrame(8, Buffer.from([0x03, 0xe8])));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const { events, seen } = recorder();
  openRawClient({ sub: 0, host: '127.0.0.1', port, path: '/ws', channel: 'news', localAddress: undefined, timeoutMs: 2000 }, events);
  // The client reports the close before its echo reaches our side: wait for both.
  await until(() => seen.closed.length > 0 && Buffer.concat(fromClient).length >= 16);
  server.close();
  assert.equal(requestLine, 'GET /ws?channels=news HTTP/1.1');
  assert.equal(seen.opened, 1);
  assert.deepEqual(
    seen.payloads.map((p) => [p.length, p[0]]),
    [
      [20, 1],
      [300, 2],
      [70000, 3],
      [40, 4],
    ],
  );
  assert.equal(seen.other, 1);
  assert.equal(seen.malformed, 1);
  assert.deepEqual(seen.closed, ['close frame 1000']);
  const sent = Buffer.concat(fromClient);
  // masked pong with the ping payload (zero mask key), then a masked close echoing the code
  assert.deepEqual([...sent.subarray(0, 8)], [0x8a, 0x82, 0, 0, 0, 0, 0x70, 0x69]);
  assert.deepEqual([...sent.subarray(8, 16)], [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
});

test('raw client reports a refused handshake as a failure', { timeout: 60_000 }, async () => {
  const server = net.createServer((sock) => {
    sock.once('data', () => sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const { events, seen } = recorder();
  openRawClient({ sub: 0, host: '127.0.0.1', port, path: '/ws', channel: 'x', localAddress: '127.0.0.2', timeoutMs: 2000 }, events);
  await until(() => seen.failed.length > 0);
  server.close();
  assert.equal(seen.opened, 0);
  assert.match(seen.failed[0]!, /handshake refused: HTTP\/1.1 400/);
});
