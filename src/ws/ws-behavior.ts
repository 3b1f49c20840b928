import { decodeCommand, encodeSubscribed, type ClientCommand } from '../protocol/commands';
import { ErrorCode } from '../protocol/opcodes';
import { ProtocolError } from '../protocol/protocol-error';
import { handleCommand } from './commands';
import { upgradeHandler } from './handshake';
import { subscribeWithPosition } from './recovery';
import { SHUTTING_DOWN_MESSAGE, send, sendErrorReply, type SocketData, type WsContext } from './connection';
import { uws, type WebSocket, type WebSocketBehavior } from '../uws/uws';

/** Path of the WebSocket endpoint. */
export const WS_PATH = '/ws';

/** Bytes a command frame may exceed `maxMessageSize` by (msgpack framing, channel, id). */
export const FRAME_OVERHEAD = 1024;

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
    drain: (ws: WebSocket<SocketData>): void => {
      ws.getUserData().drainWaiter?.();
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
