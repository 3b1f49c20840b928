import type { Broker } from '../broker/broker';
import type { Options } from '../config/options';
import type { Logger } from '../log/logger';
import { channelNameProblem } from '../protocol/channel-name';
import { decodeCommand, encodeError, encodeReply, type ClientCommand } from '../protocol/commands';
import { encodeEnvelope } from '../protocol/envelope';
import { Command, ErrorCode, type ErrorCodeValue } from '../protocol/opcodes';
import { ProtocolError } from '../protocol/protocol-error';
import type { ServerStats } from '../stats';
import type { ChannelRegistry } from './channel-registry';
import { sendError as sendHttpError } from './http-reply';
import type { HttpRequest, HttpResponse, WebSocket, WebSocketBehavior, us_socket_context_t } from './uws';

/** Path of the WebSocket endpoint. */
export const WS_PATH = '/ws';

/** Bytes a command frame may exceed `maxMessageSize` by (msgpack framing, channel, id). */
export const FRAME_OVERHEAD = 1024;

/** Per-connection state, kept small: it exists once per socket. */
export interface SocketData {
  /** Channels from `?channels=`, subscribed in `open`. */
  initial: string[];
  /** Number of channels subscribed. */
  subscriptions: number;
  /** Set once the socket closed; uWS forbids touching a closed socket. */
  closed: boolean;
}

/** What the WebSocket handlers need from the server. */
export interface WsContext {
  options: Readonly<Options>;
  broker: Broker;
  registry: ChannelRegistry;
  logger: Logger;
  sockets: Set<WebSocket<SocketData>>;
  /** Process counters. */
  stats: ServerStats;
  /** True once shutdown started: no new connections or commands. */
  isShuttingDown(): boolean;
}

/** Parses `channels=a,b` from a query string; returns the channels or a problem description. */
export function parseUrlChannels(query: string, max: number): string[] | string {
  const raw = new URLSearchParams(query).get('channels');
  if (raw === null || raw === '') return [];
  const channels = [...new Set(raw.split(','))];
  for (const channel of channels) {
    const problem = channelNameProblem(channel);
    if (problem !== null) return `${problem}: ${JSON.stringify(channel)}`;
  }
  if (channels.length > max) return `${channels.length} channels requested, the limit is ${max} (--max-subscriptions-per-connection)`;
  return channels;
}

function send(ws: WebSocket<SocketData>, frame: Buffer): void {
  if (!ws.getUserData().closed) ws.send(frame, true, false);
}

function sendErrorReply(ctx: WsContext, ws: WebSocket<SocketData>, id: number | null, code: ErrorCodeValue, message: string): void {
  ctx.stats.commandErrors++;
  send(ws, encodeError(id, code, message));
}

function handleCommand(ctx: WsContext, ws: WebSocket<SocketData>, cmd: ClientCommand): void {
  const data = ws.getUserData();
  switch (cmd.op) {
    case Command.Subscribe: {
      if (!ws.isSubscribed(cmd.channel)) {
        if (data.subscriptions >= ctx.options.maxSubscriptionsPerConnection) {
          sendErrorReply(ctx, ws, cmd.id, ErrorCode.TooManySubscriptions, `already subscribed to ${data.subscriptions} channels, the limit is ${ctx.options.maxSubscriptionsPerConnection}`);
          return;
        }
        ws.subscribe(cmd.channel);
        data.subscriptions++;
        ctx.stats.subscriptions++;
      }
      // Reply once the broker delivers the channel: a publication after the reply reaches us.
      void ctx.broker.subscribe(cmd.channel).then(() => send(ws, encodeReply(cmd.id)));
      return;
    }
    case Command.Unsubscribe:
      if (ws.unsubscribe(cmd.channel)) {
        data.subscriptions--;
        ctx.stats.subscriptions--;
      }
      send(ws, encodeReply(cmd.id));
      return;
    case Command.Publish:
      ctx.broker.publish(cmd.channel, encodeEnvelope(cmd.data)).then(
        () => {
          ctx.stats.publishedWs++;
          send(ws, encodeReply(cmd.id));
        },
        (err: Error) => {
          ctx.stats.publishFailures++;
          sendErrorReply(ctx, ws, cmd.id, ErrorCode.BrokerUnavailable, `the broker did not accept the message: ${err.message}`);
        },
      );
      return;
    case Command.Ping:
      send(ws, encodeReply(cmd.id));
      return;
  }
}

/** The uWS WebSocket behaviour of `/ws`: handshake with subscribe-on-connect, commands, close. */
export function createWsBehavior(ctx: WsContext): WebSocketBehavior<SocketData> {
  const { options } = ctx;
  return {
    maxPayloadLength: options.maxMessageSize + FRAME_OVERHEAD,
    maxBackpressure: options.maxBackpressure,
    // Typed as a number in this uWS version; non-zero closes a socket whose buffer passes maxBackpressure.
    closeOnBackpressureLimit: 1,
    idleTimeout: options.idleTimeout,
    sendPingsAutomatically: true,
    upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      if (ctx.isShuttingDown()) {
        ctx.stats.handshakesRefused++;
        sendHttpError(res, '503 Service Unavailable', 'shutting_down', 'the server is shutting down; reconnect to another process');
        return;
      }
      const channels = parseUrlChannels(req.getQuery(), options.maxSubscriptionsPerConnection);
      if (typeof channels === 'string') {
        ctx.stats.handshakesRefused++;
        sendHttpError(res, '400 Bad Request', 'invalid_channel', channels);
        return;
      }
      let aborted = false;
      res.onAborted(() => (aborted = true));
      // The socket opens only once the broker delivers its channels: open means subscribed.
      ctx.registry.hold(channels).then(() => {
        if (aborted) {
          ctx.registry.release(channels);
          return;
        }
        const userData: SocketData = { initial: channels, subscriptions: 0, closed: false };
        res.cork(() => res.upgrade(userData, key, protocol, extensions, context));
      });
    },
    open: (ws: WebSocket<SocketData>): void => {
      const data = ws.getUserData();
      ctx.sockets.add(ws);
      ctx.stats.connectionsOpened++;
      ctx.stats.subscriptions += data.initial.length;
      for (const channel of data.initial) ws.subscribe(channel);
      data.subscriptions = data.initial.length;
      ctx.registry.release(data.initial);
      data.initial = [];
    },
    message: (ws: WebSocket<SocketData>, message: ArrayBuffer): void => {
      ctx.stats.commandsIn++;
      ctx.stats.bytesIn += message.byteLength;
      let cmd: ClientCommand;
      try {
        cmd = decodeCommand(new Uint8Array(message), options.maxMessageSize);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        sendErrorReply(ctx, ws, err.requestId, err.code, err.message);
        return;
      }
      if (ctx.isShuttingDown()) {
        sendErrorReply(ctx, ws, cmd.id, ErrorCode.ShuttingDown, 'the server is shutting down; reconnect to another process');
        return;
      }
      handleCommand(ctx, ws, cmd);
    },
    subscription: (_ws: WebSocket<SocketData>, topic: ArrayBuffer, newCount: number, oldCount: number): void => {
      ctx.registry.onTopicCount(Buffer.from(topic).toString('latin1'), newCount, oldCount);
    },
    close: (ws: WebSocket<SocketData>): void => {
      const data = ws.getUserData();
      data.closed = true;
      ctx.sockets.delete(ws);
      ctx.stats.connectionsClosed++;
      ctx.stats.subscriptions -= data.subscriptions;
    },
  };
}
