import { uws, uwsBuild, type WebSocket, type WebSocketBehavior } from '../uws/uws';
import { receiveCommand } from './commands';
import type { ConnectionRef } from './connection';
import { upgradeHandler, type WsDeps } from './handshake';
import { SlowConsumerClose } from './slow-consumer-close';
import { LISTENER_TOPIC_PREFIX } from '../presence/presence-service';

/** Path of the WebSocket endpoint. */
export const WS_PATH = '/ws';

/** Bytes a command frame may exceed `maxMessageSize` by (msgpack framing, channel, id). */
export const FRAME_OVERHEAD = 1024;

/** The uWS WebSocket behaviour of `/ws`: the handshake, then each socket's events go to its Connection. */
export function createWsBehavior(ctx: WsDeps, onTopicCount: (channel: string, newCount: number, oldCount: number) => void): WebSocketBehavior<ConnectionRef> {
  const { options } = ctx;
  // Slow consumers get close code 4002 where uWS reports drops (v20.57); the legacy build cuts them off (1006).
  const slowClose =
    options.slowConsumerPolicy === 'close' && uwsBuild.id === 'current'
      ? new SlowConsumerClose<ConnectionRef>(options.maxBackpressure, (ref) => ref.connection.closed)
      : null;
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
    open: (ws: WebSocket<ConnectionRef>): void => {
      ws.getUserData().connection.open(ws);
    },
    message: (ws: WebSocket<ConnectionRef>, message: ArrayBuffer): void => {
      receiveCommand(ctx, ws.getUserData().connection, message);
    },
    subscription: (_ws: WebSocket<ConnectionRef>, topic: ArrayBuffer, newCount: number, oldCount: number): void => {
      const name = Buffer.from(topic).toString('latin1');
      // Join/leave listener topics are presence's own (counted there), not channels of the hub.
      if (!name.startsWith(LISTENER_TOPIC_PREFIX)) onTopicCount(name, newCount, oldCount);
    },
    // Called by the current uWS build for each frame it did not send to a socket over maxBackpressure.
    dropped: (ws: WebSocket<ConnectionRef>): void => {
      ctx.stats.slowConsumerDrops++;
      slowClose?.dropped(ws);
    },
    drain: (ws: WebSocket<ConnectionRef>): void => {
      ws.getUserData().connection.drained();
      slowClose?.drain(ws);
    },
    close: (ws: WebSocket<ConnectionRef>, code: number): void => {
      ws.getUserData().connection.closedWith(code);
    },
  };
}
