import { checkBackoff, type BackoffOptions } from './backoff';
import { systemClock, type Clock } from './clock';
import type { DataFormat } from './data';
import { defaultWebSocket } from './default-websocket';
import type { TokenSource } from './token';
import type { WebSocketConstructor } from './websocket-like';

/** Close codes the SDK reports for closes it decided itself (never sent by the server). */
export const LocalCloseCode = {
  /** close() was called. */
  Normal: 1000,
  /** No reply to a ping command within `pingTimeout`: the connection is presumed dead. */
  PingTimeout: 4900,
  /** The handshake did not complete within `connectTimeout`. */
  ConnectTimeout: 4901,
  /** The browser went offline; reconnects when it is back online. */
  Offline: 4902,
} as const;

/** Options of `new Client(urls, options)`; every one is optional (defaults in docs/CLIENT.md). */
export interface ClientOptions {
  /** JWT, or a function returning one (called for every connection and every refresh). */
  token?: TokenSource;
  /** WebSocket class; default: the global one (browsers, Node 22+), else the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect back-off; default { initialDelay: 500, maxDelay: 20000, factor: 2 }, full jitter. */
  reconnect?: Partial<BackoffOptions>;
  /** Back-off of retried subscribes after a temporary error reply; same defaults. */
  retry?: Partial<BackoffOptions>;
  /** ms for the WebSocket handshake; default 10000. */
  connectTimeout?: number;
  /** ms for a command's reply (publish, subscribe, refresh); default 10000. */
  requestTimeout?: number;
  /** ms between liveness pings (the ping command) on a connection; default 25000; 0 disables. */
  pingInterval?: number;
  /** ms a ping may wait for its reply (while nothing else arrives) before the connection is dropped; default 10000. */
  pingTimeout?: number;
  /** Refresh a token this many ms before it expires (or half-way, when sooner); default 30000. */
  refreshMargin?: number;
  /** Default decoding of bin data for subscriptions: `raw` (default) or `msgpack`. */
  format?: DataFormat;
  /** Time source and timers (tests); default the real ones. */
  clock?: Clock;
  /** Random source in [0, 1) for jitter (tests); default Math.random. */
  random?: () => number;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v >= 0)) throw new TypeError(`option ${name} must be a number of ms >= 0 (got ${String(value)})`);
  return v;
}

/** The options of a Client, checked and with their defaults filled in (frozen). */
export interface ResolvedOptions {
  urls: readonly string[];
  WebSocket: WebSocketConstructor;
  clock: Clock;
  random: () => number;
  reconnect: Readonly<BackoffOptions>;
  retry: Readonly<BackoffOptions>;
  connectTimeout: number;
  requestTimeout: number;
  pingInterval: number;
  pingTimeout: number;
  refreshMargin: number;
}

/** Checks `new Client(urls, options)` arguments and fills in the defaults; throws a TypeError naming what to fix. */
export function resolveOptions(urls: string | readonly string[], options: ClientOptions): Readonly<ResolvedOptions> {
  const list = typeof urls === 'string' ? [urls] : [...urls];
  if (list.length === 0) throw new TypeError('new Client(urls): give at least one ws:// or wss:// URL');
  for (const url of list) {
    if (!/^wss?:\/\//i.test(url)) throw new TypeError(`new Client(urls): ${url} is not a ws:// or wss:// URL (the endpoint is ws://HOST:PORT/ws)`);
  }
  const WebSocket = options.WebSocket ?? defaultWebSocket();
  if (WebSocket === null)
    throw new TypeError('no WebSocket class here: on Node 20 install the ws package (npm install ws), or pass { WebSocket } in the options');
  return Object.freeze({
    urls: list,
    WebSocket,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    reconnect: checkBackoff(options.reconnect, 'option reconnect'),
    retry: checkBackoff(options.retry, 'option retry'),
    connectTimeout: positive(options.connectTimeout, 10_000, 'connectTimeout'),
    requestTimeout: positive(options.requestTimeout, 10_000, 'requestTimeout'),
    pingInterval: positive(options.pingInterval, 25_000, 'pingInterval'),
    pingTimeout: positive(options.pingTimeout, 10_000, 'pingTimeout'),
    refreshMargin: positive(options.refreshMargin, 30_000, 'refreshMargin'),
  });
}
