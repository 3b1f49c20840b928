/**
 * The "limit" peer: the least a uWS.js server can do to fan a message out. Subscribe-on-connect
 * via `/ws?channels=`, and every publication is encoded once and handed to `app.publish`, which
 * fans it out in C++. Fed by the same publisher driver as the broadcaster:
 *   - Redis: one PSUBSCRIBE `{prefix}*` connection, `pmessageBuffer` (bytes never become strings),
 *     envelope `[1, data]` decoded in place;
 *   - HTTP: POST /v1/channels/{channel}/publish, body = data;
 *   - WebSocket: `[3, id, channel, data]`, answered `[1, id, true]`.
 * Settings: compression off, maxBackpressure 4 MiB without closing (a benchmark reference should
 * not drop for slow readers on loopback), idleTimeout 120 s with automatic pings (uWS default),
 * SO_REUSEPORT (uWS default) so several processes can share one port.
 *
 *   node dist/loadtest/peers/limit.js --port 9001 [--redis-url redis://127.0.0.1:6380]
 */
import { Redis } from 'ioredis';
import { decodeEnvelope, encodePublication } from '../protocol/frames.js';
import { channelsFromQuery, logListening, parsePeerOptions } from './peer-options.js';
import { loadNativeUws } from '../../harness/native-uws.js';

interface UserData {
  channels: string[];
}

const uws = loadNativeUws();
const opts = parsePeerOptions(process.argv.slice(2), 'limit');
const app = uws.App();
const OK_JSON = '{"ok":true}';

function publish(channel: string, data: Uint8Array): void {
  app.publish(channel, encodePublication(channel, data), true, false);
}

app.ws<UserData>('/ws', {
  compression: uws.DISABLED,
  maxPayloadLength: 16 * 1024 * 1024,
  maxBackpressure: 4 * 1024 * 1024,
  idleTimeout: 120,
  sendPingsAutomatically: true,
  upgrade(res, req, context) {
    const channels = channelsFromQuery(req.getQuery('channels'));
    res.upgrade<UserData>(
      { channels },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  open(ws) {
    for (const c of ws.getUserData().channels) ws.subscribe(c);
  },
  message(ws, message) {
    // only the publish command [3, id, channel, data] is understood; enough for the ws driver
    const buf = Buffer.from(message);
    if (buf.length < 4 || buf[0] !== 0x94 || buf[1] !== 0x03) return;
    let pos = 2;
    const t = buf[pos]!;
    let id: number;
    if (t < 0x80) {
      id = t;
      pos += 1;
    } else if (t === 0xcc) {
      id = buf[pos + 1]!;
      pos += 2;
    } else if (t === 0xcd) {
      id = buf.readUInt16BE(pos + 1);
      pos += 3;
    } else if (t === 0xce) {
      id = buf.readUInt32BE(pos + 1);
      pos += 5;
    } else return;
    const h = buf[pos]!;
    let len: number;
    if ((h & 0xe0) === 0xa0) {
      len = h & 0x1f;
      pos += 1;
    } else if (h === 0xd9) {
      len = buf[pos + 1]!;
      pos += 2;
    } else return;
    const channel = buf.toString('utf8', pos, pos + len);
    pos += len;
    const b = buf[pos]!;
    let dlen: number;
    if (b === 0xc4) {
      dlen = buf[pos + 1]!;
      pos += 2;
    } else if (b === 0xc5) {
      dlen = buf.readUInt16BE(pos + 1);
      pos += 3;
    } else if (b === 0xc6) {
      dlen = buf.readUInt32BE(pos + 1);
      pos += 5;
    } else return;
    publish(channel, buf.subarray(pos, pos + dlen));
    // reply [1, id, true]
    const reply = Buffer.from([0x93, 0x01, 0xce, 0, 0, 0, 0, 0xc3]);
    reply.writeUInt32BE(id >>> 0, 3);
    ws.send(reply, true, false);
  },
});

app.post('/v1/channels/:channel/publish', (res, req) => {
  const channel = req.getParameter(0) ?? '';
  const parts: Buffer[] = [];
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  res.onData((chunk, isLast) => {
    parts.push(Buffer.from(chunk.slice(0)));
    if (!isLast || aborted) return;
    const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    publish(channel, body);
    res.cork(() => {
      res.writeStatus('200 OK').writeHeader('content-type', 'application/json').end(OK_JSON);
    });
  });
});

let redis: Redis | undefined;
if (opts.redisUrl !== '') {
  const prefix = opts.redisPrefix;
  const sub = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  redis = sub;
  sub.on('error', (err: Error) => process.stderr.write(`limit: redis: ${err.message}\n`));
  sub.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
    const data = decodeEnvelope(message);
    if (data === null) return;
    publish(channel.toString('latin1', prefix.length), data);
  });
  void sub.psubscribe(`${prefix}*`);
}

app.listen(opts.host, opts.port, (listenSocket) => {
  if (listenSocket === false) {
    process.stderr.write(`limit: cannot listen on ${opts.host}:${opts.port}\n`);
    process.exit(1);
  }
  const port = uws.us_socket_local_port(listenSocket as unknown as Parameters<typeof uws.us_socket_local_port>[0]);
  const stop = (): void => {
    uws.us_listen_socket_close(listenSocket);
    redis?.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const ready = (): void => logListening('limit', port, { redis: opts.redisUrl !== '' });
  if (redis === undefined) ready();
  else redis.once('ready', ready);
});
