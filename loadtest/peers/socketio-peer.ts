/**
 * Socket.IO peer with @socket.io/redis-adapter: clients connect with `?channels=a,b` in the
 * handshake query and join those rooms; publications are `pub(channel, data)` events.
 * Fed through Redis exactly as @socket.io/redis-emitter does (the publisher driver's
 * `socketio-redis` mode: PUBLISH `socket.io#/#{room}#` msgpack [uid, packet, opts]), so the
 * adapter's own subscriber receives and broadcasts them; or over HTTP
 * (POST /v1/channels/{channel}/publish -> io.to(channel).emit, which also reaches other nodes).
 * Settings per the Socket.IO performance guide: WebSocket transport only, perMessageDeflate
 * off, no client serving, bufferutil/utf-8-validate installed; default ws engine.
 *
 *   node dist/loadtest/peers/socketio-peer.js --port 9005 --redis-url redis://127.0.0.1:6380
 */
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createPublishServer } from './http-publish-server.js';
import { channelsFromQuery, logListening, parsePeerOptions } from './peer-options.js';

const opts = parsePeerOptions(process.argv.slice(2), 'socketio-peer');

const server = createPublishServer((channel, data) => io.to(channel).emit('pub', channel, data));

const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  serveClient: false,
  maxHttpBufferSize: 16 * 1024 * 1024,
});

let pub: Redis | undefined;
let sub: Redis | undefined;
if (opts.redisUrl !== '') {
  pub = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (err: Error) => process.stderr.write(`socketio-peer: redis: ${err.message}\n`));
  io.adapter(createAdapter(pub, sub));
}

io.on('connection', (socket) => {
  const q = socket.handshake.query.channels;
  for (const c of channelsFromQuery(typeof q === 'string' ? q : undefined)) void socket.join(c);
});

server.listen(opts.port, opts.host, () => {
  const port = (server.address() as { port: number }).port;
  const ready = (): void => logListening('socketio-peer', port, { redis: sub !== undefined });
  if (sub === undefined) ready();
  else if (sub.status === 'ready') setTimeout(ready, 100);
  else sub.once('ready', () => setTimeout(ready, 100));
});

const stop = (): void => {
  void io.close();
  pub?.disconnect();
  sub?.disconnect();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
