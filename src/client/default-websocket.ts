import type { WebSocketConstructor } from './websocket-like';

/**
 * The WebSocket class to use on Node when none was given: the global one (Node 22+), else the
 * `ws` package if installed (Node 20). The browser bundle replaces this file with
 * default-websocket.browser.ts.
 */
export function defaultWebSocket(): WebSocketConstructor | null {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof global === 'function') return global;
  try {
    return require('ws') as WebSocketConstructor;
  } catch {
    return null;
  }
}
