import type { WebSocketConstructor } from './websocket-like';

/** The WebSocket class of the browser (replaces default-websocket.ts in the browser bundle). */
export function defaultWebSocket(): WebSocketConstructor | null {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  return typeof global === 'function' ? global : null;
}
