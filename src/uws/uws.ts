/**
 * The only module that loads uWebSockets.js: it picks the native build that runs here
 * (see load-uws.ts) and exports its API, typed after the current (v20.57) declarations.
 */
import type * as UwsTypes from 'uWebSockets.js';
import { loadUws, type LoadedUwsBuild } from './load-uws';
import { currentPlatform } from './platform';

/** The uWebSockets.js API (types from the current package's declarations). */
export type Uws = typeof UwsTypes;
export type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  WebSocket,
  WebSocketBehavior,
  us_listen_socket,
  us_socket_context_t,
} from 'uWebSockets.js';
export { NativeUwsError, type LoadedUwsBuild } from './load-uws';

const loaded = loadUws<Uws>({
  platform: currentPlatform(),
  buildChoice: process.env.BROADCASTER_UWS_BUILD,
  fallbackFlag: process.env.UWS_USE_FALLBACK,
});

/** The native uWebSockets.js addon; importing this module throws NativeUwsError when none loads. */
export const uws: Uws = loaded.api;

/** Which build, version and addon file this process runs on. */
export const uwsBuild: LoadedUwsBuild = loaded.build;

