/**
 * Subscriber client for the Socket.IO peer, on the official socket.io-client (WebSocket
 * transport only, no reconnection). The peer joins the rooms named in the `channels` query and
 * emits `pub(channel, data)`; `data` arrives as a Buffer holding the benchmark payload.
 */
import { io } from 'socket.io-client';
import { nowMs } from '../protocol/payload.js';
import type { ClientEvents, ConnectSpec, SubscriberClient } from './client-types.js';

/** Opens a socket.io subscriber; see ClientFactory. `spec.path` is the socket.io path. */
export function openSocketIoClient(spec: ConnectSpec, events: ClientEvents): SubscriberClient {
  const { sub } = spec;
  const socket = io(`http://${spec.host}:${spec.port}`, {
    path: spec.path === '/ws' ? '/socket.io' : spec.path,
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: spec.timeoutMs,
    query: { channels: spec.channel },
    ...(spec.localAddress !== undefined ? { localAddress: spec.localAddress } : {}),
  });
  let opened = false;
  let finished = false;
  socket.on('connect', () => {
    opened = true;
    events.open(sub);
  });
  socket.on('pub', (_channel: string, data: unknown) => {
    const now = nowMs();
    if (Buffer.isBuffer(data)) events.payload(sub, data, 0, data.length, now);
    else if (data instanceof ArrayBuffer) {
      const b = Buffer.from(data);
      events.payload(sub, b, 0, b.length, now);
    } else events.malformed(sub);
  });
  socket.on('connect_error', (err: Error) => {
    if (finished) return;
    finished = true;
    events.fail(sub, err.message);
    socket.close();
  });
  socket.on('disconnect', (reason: string) => {
    if (finished) return;
    finished = true;
    if (opened) events.close(sub, reason);
    else events.fail(sub, reason);
  });
  return {
    close(): void {
      finished = true;
      socket.close();
    },
  };
}
