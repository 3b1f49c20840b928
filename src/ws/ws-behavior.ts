import { uws, type WebSocket, type WebSocketBehavior } from '../uws/uws';
import { runCommand } from './commands';
import type { ConnectionRef } from './connection';
import { upgradeHandler, type WsDeps } from './handshake';

/** Path of the WebSocket endpoint. */
export const WS_PATH = '/ws';

/** Bytes a command frame may exceed `maxMessageSize` by (msgpack framing, channel, id). */
export const FRAME_OVERHEAD = 1024;

/** The uWS WebSocket behaviour of `/ws`: the handshake, then each socket's events go to its Connection. */
export function createWsBehavior(ctx: WsDeps, onTopicCount: (channel: string, newCount: number, oldCount: number) => void): WebSocketBehavior<ConnectionRef> {
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
    open: (ws: WebSocket<ConnectionRef>): void => {
      ws.getUserData().connection.open(ws);
    },
    message: (ws: WebSocket<ConnectionRef>, message: ArrayBuffer): void => {
      const conn = ws.getUserData().connection;
      const cmd = conn.readCommand(message);
      if (cmd !== null) runCommand(ctx, conn, cmd);
    },
    subscription: (_ws: WebSocket<ConnectionRef>, topic: ArrayBuffer, newCount: number, oldCount: number): void => {
      onTopicCount(Buffer.from(topic).toString('latin1'), newCount, oldCount);
    },
    drain: (ws: WebSocket<ConnectionRef>): void => {
      ws.getUserData().connection.drained();
    },
    close: (ws: WebSocket<ConnectionRef>, code: number): void => {
      ws.getUserData().connection.closedWith(code);
    },
  };
}
