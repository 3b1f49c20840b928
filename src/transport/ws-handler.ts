import { decodeCommand, encodeSubscribed, type ClientCommand } from '../protocol/commands';
import { ErrorCode } from '../protocol/opcodes';
import { ProtocolError } from '../protocol/protocol-error';
import { handleCommand } from './command-handler';
import { upgradeHandler } from './handshake';
import { subscribeWithPosition } from './recovery';
import { SHUTTING_DOWN_MESSAGE, send, sendErrorReply, type SocketData, type WsContext } from './socket-context';
import { uws, uwsBuild, type WebSocket, type WebSocketBehavior } from '../uws/uws';
import { SlowConsumerClose } from '../ws/slow-consumer-close';

/** Path of the WebSocket endpoint. */
export const WS_PATH = '/ws';

/** Bytes a command frame may exceed `maxMessageSize` by (msgpack framing, channel, id). */
export const FRAME_OVERHEAD = 1024;

/** The uWS WebSocket behaviour of `/ws`: handshake with subscribe-on-connect, commands, close. */
export function createWsBehavior(ctx: WsContext): WebSocketBehavior<SocketData> {
  const { options } = ctx;
  // Slow consumers get close code 4002 where uWS reports drops (v20.57); the legacy build cuts them off (1006).
  const slowClose = options.slowConsumerPolicy === 'close' && uwsBuild.id === 'current' ? new SlowConsumerClose<SocketData>(options.maxBackpressure) : null;
  return {
    maxPayloadLength: options.maxMessageSize + FRAME_OVERHEAD,
    maxBackpressure: options.maxBackpressure,
    // true closes a socket whose buffer passes maxBackpressure; false makes uWS skip publications
    // for it until its buffer drains ("drop": the client sees an offset gap).
    closeOnBackpressureLimit: options.slowConsumerPolicy === 'close' && slowClose === null,
    idleTimeout: options.idleTimeout,
    sendPingsAutomatically: true,
    // Inflated frames are capped by maxPayloadLength like plain ones (no decompression bombs).
    compression:
      options.compression === 'shared'
        ? uws.SHARED_COMPRESSOR | uws.SHARED_DECOMPRESSOR
        : options.compression === 'dedicated'
          ? uws.DEDICATED_COMPRESSOR_4KB | uws.DEDICATED_DECOMPRESSOR
          : uws.DISABLED,
    upgrade: upgradeHandler(ctx),
    open: (ws: WebSocket<SocketData>): void => {
      const data = ws.getUserData();
      ctx.sockets.add(ws);
      ctx.expiry.arm(ws);
      ctx.stats.connectionsOpened++;
      const request = data.connect;
      data.connect = null;
      if (request === null) return;
      ctx.stats.subscriptions += request.channels.length;
      data.subscriptions = request.channels.length;
      const plain: string[] = [];
      for (const channel of request.channels) {
        const since = request.since.get(channel) ?? null;
        if (since === null && !request.positions) {
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
    },
    message: (ws: WebSocket<SocketData>, message: ArrayBuffer): void => {
      ctx.stats.commandsIn++;
      ctx.stats.bytesIn += message.byteLength;
      const data = ws.getUserData();
      const now = Date.now();
      if (!ctx.security.rate.take((data.bucket ??= ctx.security.rate.newBucket(now)), message.byteLength, now)) {
        ctx.stats.rateLimited++;
        sendErrorReply(ctx, ws, null, ErrorCode.RateLimited, 'too many commands or bytes per second: command dropped; slow down');
        return;
      }
      let cmd: ClientCommand;
      try {
        cmd = decodeCommand(new Uint8Array(message), options.maxMessageSize);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        sendErrorReply(ctx, ws, err.requestId, err.code, err.message);
        return;
      }
      if (ctx.isShuttingDown()) {
        sendErrorReply(ctx, ws, cmd.id, ErrorCode.ShuttingDown, SHUTTING_DOWN_MESSAGE);
        return;
      }
      handleCommand(ctx, ws, cmd);
    },
    subscription: (_ws: WebSocket<SocketData>, topic: ArrayBuffer, newCount: number, oldCount: number): void => {
      ctx.registry.onTopicCount(Buffer.from(topic).toString('latin1'), newCount, oldCount);
    },
    // Called by the current uWS build for each frame it did not send to a socket over maxBackpressure.
    dropped: (ws: WebSocket<SocketData>): void => {
      ctx.stats.slowConsumerDrops++;
      slowClose?.dropped(ws);
    },
    drain: (ws: WebSocket<SocketData>): void => {
      ws.getUserData().drainWaiter?.();
      slowClose?.drain(ws);
    },
    close: (ws: WebSocket<SocketData>, code: number): void => {
      const data = ws.getUserData();
      if (code === 1006) ctx.stats.abnormalCloses++;
      data.drainWaiter?.();
      ctx.expiry.cancel(ws);
      ctx.security.limits.release(data.address);
      data.closed = true;
      ctx.sockets.delete(ws);
      ctx.stats.connectionsClosed++;
      ctx.stats.subscriptions -= data.subscriptions;
    },
  };
}
