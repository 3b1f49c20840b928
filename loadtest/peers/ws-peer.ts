/**
 * Classic `ws` peer, the tutorial design: a `ws` WebSocketServer on a Node http server, a
 * Map<channel, Set<WebSocket>>, and an ioredis PSUBSCRIBE `{prefix}*` subscriber whose handler
 * loops over the channel's sockets calling `ws.send`. The frame is encoded once per message
 * (the loop only re-frames it). Settings per the ws README's performance notes:
 * perMessageDeflate off, clientTracking off, bufferutil installed (loaded when present),
 * skipUTF8Validation on; no backpressure limit (ws has none: buffers grow).
 *
 *   node dist/loadtest/peers/ws-peer.js --port 9004 --redis-url redis://127.0.0.1:6380
 */
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeEnvelope, encodePublication } from '../protocol/frames.js';
import { createPublishServer } from './http-publish-server.js';
import { channelsFromQuery, logListening, parsePeerOptions } from './peer-options.js';

const opts = parsePeerOptions(process.argv.slice(2), 'ws-peer');
const rooms = new Map<string, Set<WebSocket>>();

function publish(channel: string, data: Uint8Array): void {
  const set = rooms.get(channel);
  if (set === undefined) return;
  const frame = encodePublication(channel, data);
  for (const ws of set) ws.send(frame, { binary: true, compress: false });
}

const server = createPublishServer(publish);

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, skipUTF8Validation: true });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname !== '/ws') {
    socket.destroy();
    return;
  }
  const channels = channelsFromQuery(url.searchParams.get('channels'));
  wss.handleUpgrade(req, socket, head, (ws) => {
    for (const c of channels) {
      let set = rooms.get(c);
      if (set === undefined) {
        set = new Set();
        rooms.set(c, set);
      }
      set.add(ws);
    }
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      for (const c of channels) {
        const set = rooms.get(c);
        set?.delete(ws);
        if (set?.size === 0) rooms.delete(c);
      }
    });
  });
});

let redis: Redis | undefined;
if (opts.redisUrl !== '') {
  const prefix = opts.redisPrefix;
  const sub = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  redis = sub;
  sub.on('error', (err: Error) => process.stderr.write(`ws-peer: redis: ${err.message}\n`));
  sub.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
    const data = decodeEnvelope(message);
    if (data !== null) publish(channel.toString('latin1', prefix.length), data);
  });
}

server.listen(opts.port, opts.host, () => {
  const port = (server.address() as { port: number }).port;
  const ready = (): void => logListening('ws-peer', port, { redis: redis !== undefined });
  if (redis === undefined) ready();
  else void redis.psubscribe(`${opts.redisPrefix}*`).then(ready);
});

const stop = (): void => {
  redis?.disconnect();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
