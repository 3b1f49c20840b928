/**
 * Subscriber client built on the `ws` package (perMessageDeflate off, binary frames as Buffer).
 * Kept to compare against the raw client and as a reference implementation.
 */
import WebSocket from 'ws';
import { nowMs } from '../protocol/payload.js';
import { dispatchFrame, subscribeQuery, type ClientEvents, type ConnectSpec, type SubscriberClient } from './client-types.js';

/** Opens a `ws` subscriber; see ClientFactory. */
export function openWsClient(spec: ConnectSpec, events: ClientEvents): SubscriberClient {
  const { sub } = spec;
  const url = `ws://${spec.host}:${spec.port}${spec.path}?${subscribeQuery(spec)}`;
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    handshakeTimeout: spec.timeoutMs,
    skipUTF8Validation: true,
    ...(spec.localAddress !== undefined ? { localAddress: spec.localAddress } : {}),
  });
  ws.binaryType = 'nodebuffer';
  let opened = false;
  let finished = false;
  ws.on('open', () => {
    opened = true;
    events.open(sub);
  });
  ws.on('message', (data: Buffer) => {
    dispatchFrame(events, sub, data, 0, data.length, nowMs());
  });
  ws.on('error', (err) => {
    if (finished) return;
    finished = true;
    if (opened) events.close(sub, err.message);
    else events.fail(sub, err.message);
    ws.terminate();
  });
  ws.on('close', (code) => {
    if (finished) return;
    finished = true;
    if (opened) events.close(sub, `close ${code}`);
    else events.fail(sub, `close ${code}`);
  });
  return {
    close(): void {
      finished = true;
      ws.terminate();
    },
  };
}
