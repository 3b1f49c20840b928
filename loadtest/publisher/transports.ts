/**
 * Publish transports for the publisher driver: HTTP publish endpoint, Redis PUBLISH of the
 * broadcaster envelope (raw, no offsets), the broadcaster's history path (the Node `Publisher`:
 * offset + history stream write + PUBLISH in one Lua script), Redis PUBLISH in the socket.io
 * redis-emitter format, or the WebSocket publish command. Each keeps per-channel order (one
 * ordered lane per channel).
 */
import * as http from 'node:http';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { Packr } from 'msgpackr';
import { encodeEnvelope, encodePublishCommand } from '../protocol/frames.js';
import { Publisher } from '../../src/publisher/publisher.js';

/** How the publisher reaches the server. */
export type PublishVia = 'http' | 'redis' | 'redis-history' | 'ws' | 'socketio-redis';

/** Every publish path, for CLI validation. */
export const PUBLISH_VIAS: readonly PublishVia[] = ['http', 'redis', 'redis-history', 'ws', 'socketio-redis'];

/** History settings of the servers fed through the history path (their defaults). */
export const HISTORY_SIZE = 100;
/** Seconds history lives (the server's default --history-ttl). */
export const HISTORY_TTL = 300;

/** Completion callback: ok, or an error text. */
export type Done = (err: string | null, receivers?: number) => void;

/** One way of publishing a payload to a channel. */
export interface PublishTransport {
  /** Resolves once the transport can publish. */
  ready(): Promise<void>;
  /** Publishes; calls `done` once acknowledged or failed. */
  publish(channelIndex: number, channel: string, payload: Buffer, done: Done): void;
  /** Releases connections. */
  close(): Promise<void>;
}

/** One POST /v1/channels/{channel}/publish of `payload` through `agent`; `done` gets null on 200. */
function postPublish(url: URL, agent: http.Agent, channel: string, payload: Buffer, done: Done): void {
  const req = http.request(
    {
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: `/v1/channels/${encodeURIComponent(channel)}/publish`,
      agent,
      headers: { 'content-type': 'application/octet-stream', 'content-length': payload.length },
    },
    (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode === 200 ? null : `HTTP ${res.statusCode ?? 0}`));
    },
  );
  req.on('error', (err) => done(err.message));
  req.end(payload);
}

/** HTTP POST /v1/channels/{channel}/publish over `lanes` keep-alive connections. */
export function httpTransport(baseUrl: string, lanes: number): PublishTransport {
  const url = new URL(baseUrl);
  const agents = Array.from({ length: lanes }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  return {
    async ready() {},
    publish(channelIndex, channel, payload, done) {
      postPublish(url, agents[channelIndex % lanes]!, channel, payload, done);
    },
    async close() {
      for (const a of agents) a.destroy();
    },
  };
}

/**
 * HTTP POST /v1/channels/{channel}/publish with up to `inFlight` requests at once over as many
 * keep-alive connections (the driver stops starting requests while `inFlight` are unanswered).
 */
export function httpConcurrentTransport(baseUrl: string, inFlight: number): PublishTransport {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  return {
    async ready() {},
    publish(_channelIndex, channel, payload, done) {
      postPublish(url, agent, channel, payload, done);
    },
    async close() {
      agent.destroy();
    },
  };
}

const packr = new Packr({ useRecords: false });

/**
 * Redis PUBLISH on one auto-pipelined connection. `format` 'bc' sends `PUBLISH {prefix}{channel}
 * [1, data]`; 'socketio' sends what @socket.io/redis-emitter sends for `to(channel).emit('pub',
 * channel, data)` on the default namespace (channel `{prefix}#/#{room}#`, prefix default socket.io).
 */
export function redisTransport(redisUrl: string, prefix: string, format: 'bc' | 'socketio'): PublishTransport {
  const redis = new Redis(redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  return {
    async ready() {
      await redis.connect();
    },
    publish(_channelIndex, channel, payload, done) {
      let key: string;
      let message: Buffer;
      if (format === 'bc') {
        key = prefix + channel;
        message = encodeEnvelope(payload);
      } else {
        key = `${prefix}#/#${channel}#`;
        message = packr.pack(['emitter', { type: 2, data: ['pub', channel, payload], nsp: '/' }, { rooms: [channel], except: [], flags: {} }]);
      }
      redis.publish(key, message).then(
        (n) => done(null, n),
        (err: Error) => done(err.message),
      );
    },
    async close() {
      redis.disconnect();
    },
  };
}

/**
 * The broadcaster's history path through the Node `Publisher` (src/publisher/publisher.ts): per
 * publication one Lua script assigns the channel offset, appends to the history stream (size
 * HISTORY_SIZE, ttl HISTORY_TTL, the servers' defaults) and PUBLISHes the envelope with its
 * offset, exactly as a broadcaster process publishes. One connection, commands pipelined in order.
 * `ready()` publishes once to a warm-up channel so the script is loaded before timed publishing.
 */
export function redisHistoryTransport(redisUrl: string, prefix: string): PublishTransport {
  const publisher = new Publisher({ redisUrl, prefix, historySize: HISTORY_SIZE, historyTtl: HISTORY_TTL });
  return {
    async ready() {
      await publisher.publish('lt.warmup', Buffer.alloc(16));
    },
    publish(_channelIndex, channel, payload, done) {
      publisher.publish(channel, payload).then(
        ({ position }) => done(position === null ? 'published without an offset (history off?)' : null),
        (err: Error) => done(err.message),
      );
    },
    async close() {
      await publisher.close();
    },
  };
}

/** The WebSocket publish command `[3, id, channel, data]` on one connection; replies acknowledge. */
export function wsTransport(wsUrl: string): PublishTransport {
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  const pending = new Map<number, Done>();
  let nextId = 1;
  ws.on('message', (data: Buffer) => {
    // replies: [1, id, result] ok or [2, id, code, message] error; ids fit a positive fixint..uint32
    if (data.length < 3 || (data[0] !== 0x93 && data[0] !== 0x94)) return;
    const kind = data[1];
    if (kind !== 1 && kind !== 2) return;
    let id: number;
    const t = data[2]!;
    if (t < 0x80) id = t;
    else if (t === 0xcc) id = data[3]!;
    else if (t === 0xcd) id = data.readUInt16BE(3);
    else if (t === 0xce) id = data.readUInt32BE(3);
    else return;
    const done = pending.get(id);
    if (done === undefined) return;
    pending.delete(id);
    done(kind === 1 ? null : 'error reply');
  });
  const failAll = (why: string): void => {
    for (const d of pending.values()) d(why);
    pending.clear();
  };
  ws.on('close', () => failAll('connection closed'));
  return {
    ready() {
      return new Promise((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
    },
    publish(_channelIndex, channel, payload, done) {
      const id = nextId++;
      if (nextId > 0xffffffff) nextId = 1;
      pending.set(id, done);
      ws.send(encodePublishCommand(id, channel, payload), { binary: true }, (err) => {
        if (err) {
          pending.delete(id);
          done(err.message);
        }
      });
    },
    async close() {
      ws.terminate();
    },
  };
}
