/**
 * Bun peer: `Bun.serve` WebSockets with `server.publish` (Bun's native uWS topic fan-out), fed by
 * an ioredis PSUBSCRIBE `{prefix}*` connection with `pmessageBuffer`, plus the same HTTP publish
 * route as the broadcaster. Each publication is encoded once, then handed to `server.publish`.
 * Settings (Bun's documented best practice for broadcast): perMessageDeflate off, publishToSelf
 * off, backpressureLimit 4 MiB without closing (like the limit peer), idleTimeout 120 s with
 * pings, reusePort so several processes may share one port.
 *
 *   npx bun loadtest/peers/bun-peer.bun.ts --port 9003 --redis-url redis://127.0.0.1:6380
 * (Excluded from tsc: run by Bun, which resolves the `.js` imports to the `.ts` sources.)
 */
import { Redis } from 'ioredis';
import { decodeEnvelope, encodePublication } from '../protocol/frames.js';
import { channelsFromQuery, logListening, parsePeerOptions } from './peer-options.js';

interface SocketData {
  channels: string[];
}

const opts = parsePeerOptions(process.argv.slice(2), 'bun-peer');
const PUBLISH_PATH = /^\/v1\/channels\/([^/]+)\/publish$/;

const server = Bun.serve<SocketData, Record<string, never>>({
  hostname: opts.host,
  port: opts.port,
  reusePort: true,
  async fetch(req, srv) {
    const url = new URL(req.url);
    if (url.pathname === '/ws') {
      const channels = channelsFromQuery(url.searchParams.get('channels'));
      if (srv.upgrade(req, { data: { channels } })) return undefined;
      return new Response('upgrade failed', { status: 400 });
    }
    const m = PUBLISH_PATH.exec(url.pathname);
    if (m !== null && req.method === 'POST') {
      const channel = decodeURIComponent(m[1]!);
      const body = new Uint8Array(await req.arrayBuffer());
      srv.publish(channel, encodePublication(channel, body));
      return Response.json({ ok: true });
    }
    return new Response('not found', { status: 404 });
  },
  websocket: {
    perMessageDeflate: false,
    publishToSelf: false,
    backpressureLimit: 4 * 1024 * 1024,
    closeOnBackpressureLimit: false,
    idleTimeout: 120,
    sendPings: true,
    maxPayloadLength: 16 * 1024 * 1024,
    open(ws) {
      for (const c of ws.data.channels) ws.subscribe(c);
    },
    message() {},
  },
});

let redis: Redis | undefined;
if (opts.redisUrl !== '') {
  const prefix = opts.redisPrefix;
  const sub = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  redis = sub;
  sub.on('error', (err: Error) => process.stderr.write(`bun-peer: redis: ${err.message}\n`));
  sub.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
    const data = decodeEnvelope(message);
    if (data === null) return;
    const topic = channel.toString('latin1', prefix.length);
    server.publish(topic, encodePublication(topic, data));
  });
  void sub.psubscribe(`${prefix}*`).then(() => logListening('bun-peer', server.port, { redis: true, bun: Bun.version }));
} else {
  logListening('bun-peer', server.port, { redis: false, bun: Bun.version });
}

const stop = (): void => {
  server.stop(true);
  redis?.disconnect();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
