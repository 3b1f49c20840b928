import type { Broker } from '../broker/broker';
import type { Options } from '../config/options';
import type { Logger } from '../log/logger';
import { decodeCommand, encodeError, encodeReply, encodeSubscribed, type ClientCommand, type RecoveryPosition } from '../protocol/commands';
import { encodeData } from '../protocol/envelope';
import { Command, ErrorCode, type ErrorCodeValue } from '../protocol/opcodes';
import { ProtocolError } from '../protocol/protocol-error';
import type { ServerStats } from '../stats';
import type { ChannelRegistry } from './channel-registry';
import { subscribeWithPosition, type RecoveryContext } from './recovery';
import { parseConnectRequest } from './url-params';
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
  /** Positions to recover from (`?since=`), or null. */
  since: Map<string, RecoveryPosition> | null;
  /** Whether URL subscriptions report their position (`?positions=1`). */
  positions: boolean;
  /** Channels whose subscribe has not been answered yet, or null. */
  pending: Set<string> | null;
  /** Number of channels subscribed. */
  subscriptions: number;
  /** Set once the socket closed; uWS forbids touching a closed socket. */
  closed: boolean;
  /** Resumes a recovery waiting for the send buffer to drain, or null. */
  drainWaiter: (() => void) | null;
}

/** What the WebSocket handlers need from the server. */
export interface WsContext extends RecoveryContext {
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
      if (data.pending?.has(cmd.channel)) {
        sendErrorReply(ctx, ws, cmd.id, ErrorCode.SubscriptionInProgress, `a subscribe of ${cmd.channel} is still in progress on this connection`);
        return;
      }
      const already = ws.isSubscribed(cmd.channel);
      if (!already) {
        if (data.subscriptions >= ctx.options.maxSubscriptionsPerConnection) {
          sendErrorReply(ctx, ws, cmd.id, ErrorCode.TooManySubscriptions, `already subscribed to ${data.subscriptions} channels, the limit is ${ctx.options.maxSubscriptionsPerConnection}`);
          return;
        }
        data.subscriptions++;
        ctx.stats.subscriptions++;
      }
      (data.pending ??= new Set()).add(cmd.channel);
      // The reply follows the broker's confirmation: a publication after the reply reaches us.
      void ctx.registry.hold([cmd.channel]).then(() => {
        // Subscribing again with a position while subscribed is a resync: leave the topic, recover, rejoin.
        if (already && cmd.since !== null && !data.closed) ws.unsubscribe(cmd.channel);
        return subscribeWithPosition(ctx, ws, cmd.channel, cmd.since);
      }).then(
        (result) => {
          data.pending?.delete(cmd.channel);
          send(ws, encodeReply(cmd.id, result));
        },
        (err: Error) => {
          data.pending?.delete(cmd.channel);
          if (!already && !data.closed) {
            data.subscriptions--;
            ctx.stats.subscriptions--;
          }
          sendErrorReply(ctx, ws, cmd.id, ErrorCode.BrokerUnavailable, `history could not be read: ${err.message}`);
        },
      );
      return;
    }
    case Command.Unsubscribe:
      if (data.pending?.has(cmd.channel)) {
        sendErrorReply(ctx, ws, cmd.id, ErrorCode.SubscriptionInProgress, `a subscribe of ${cmd.channel} is still in progress on this connection`);
        return;
      }
      if (ws.unsubscribe(cmd.channel)) {
        data.subscriptions--;
        ctx.stats.subscriptions--;
      }
      send(ws, encodeReply(cmd.id));
      return;
    case Command.Publish:
      ctx.broker.publish(cmd.channel, encodeData(cmd.data)).then(
        (position) => {
          ctx.stats.publishedWs++;
          send(ws, encodeReply(cmd.id, position));
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
    // Typed as a number in this uWS version; non-zero closes a socket whose buffer passes maxBackpressure,
    // zero makes uWS skip publications for it until its buffer drains ("drop": the client sees an offset gap).
    closeOnBackpressureLimit: options.slowConsumerPolicy === 'close' ? 1 : 0,
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
      const request = parseConnectRequest(req.getQuery(), options.maxSubscriptionsPerConnection);
      if (typeof request === 'string') {
        ctx.stats.handshakesRefused++;
        sendHttpError(res, '400 Bad Request', 'invalid_channel', request);
        return;
      }
      const { channels } = request;
      let aborted = false;
      res.onAborted(() => (aborted = true));
      // The socket opens only once the broker delivers its channels: open means subscribed.
      ctx.registry.hold(channels).then(() => {
        if (aborted) {
          ctx.registry.release(channels);
          return;
        }
        if (ctx.isShuttingDown()) {
          // Shutdown began while the broker confirmed: the socket would miss the going-away close.
          ctx.registry.release(channels);
          ctx.stats.handshakesRefused++;
          sendHttpError(res, '503 Service Unavailable', 'shutting_down', 'the server is shutting down; reconnect to another process');
          return;
        }
        const userData: SocketData = {
          initial: channels,
          since: request.since.size > 0 ? request.since : null,
          positions: request.positions,
          pending: null,
          subscriptions: 0,
          closed: false,
          drainWaiter: null,
        };
        res.cork(() => res.upgrade(userData, key, protocol, extensions, context));
      });
    },
    open: (ws: WebSocket<SocketData>): void => {
      const data = ws.getUserData();
      ctx.sockets.add(ws);
      ctx.stats.connectionsOpened++;
      ctx.stats.subscriptions += data.initial.length;
      data.subscriptions = data.initial.length;
      const plain: string[] = [];
      for (const channel of data.initial) {
        const since = data.since?.get(channel) ?? null;
        if (since === null && !data.positions) {
          ws.subscribe(channel);
          plain.push(channel);
          continue;
        }
        (data.pending ??= new Set()).add(channel);
        subscribeWithPosition(ctx, ws, channel, since).then(
          (result) => {
            data.pending?.delete(channel);
            send(ws, encodeSubscribed(channel, result));
          },
          (err: Error) => {
            data.pending?.delete(channel);
            // Deliver live publications anyway; the offset gap tells the client to resubscribe with its position.
            if (!data.closed) ws.subscribe(channel);
            sendErrorReply(ctx, ws, null, ErrorCode.BrokerUnavailable, `${channel}: history could not be read: ${err.message}`);
          },
        );
      }
      ctx.registry.release(plain);
      data.initial = [];
      data.since = null;
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
    drain: (ws: WebSocket<SocketData>): void => {
      ws.getUserData().drainWaiter?.();
    },
    close: (ws: WebSocket<SocketData>, code: number): void => {
      const data = ws.getUserData();
      if (code === 1006) ctx.stats.abnormalCloses++;
      data.drainWaiter?.();
      data.closed = true;
      ctx.sockets.delete(ws);
      ctx.stats.connectionsClosed++;
      ctx.stats.subscriptions -= data.subscriptions;
    },
  };
}
