/** The part of the browser WebSocket interface the SDK uses (the `ws` package has it too). */
export interface WebSocketLike {
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/**
 * A WebSocket class: the browser's or Node 22+'s global `WebSocket`, or `require('ws')` on
 * Node 20. Typed loosely so both fit; it must behave like WebSocketLike.
 */
export type WebSocketConstructor = new (url: string, protocols: string[]) => object;
