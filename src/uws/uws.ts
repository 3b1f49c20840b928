/**
 * The only module that loads uWebSockets.js. It loads the package's native addon directly and
 * refuses to run on the package's slow pure-JS fallback.
 */
import { dirname, join } from 'node:path';
import type * as UwsTypes from 'uWebSockets.js';

/** The uWebSockets.js API (types from the package's own declarations). */
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

/** The native addon could not be loaded; the message says why and what to do. */
export class NativeUwsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NativeUwsError';
  }
}

function loadNative(): Uws {
  const fallbackFlag = process.env.UWS_USE_FALLBACK;
  if (fallbackFlag !== undefined && /^(1|true)$/i.test(fallbackFlag)) {
    throw new NativeUwsError(
      'UWS_USE_FALLBACK is set, which selects the slow pure-JS uWebSockets.js fallback; unset UWS_USE_FALLBACK to run on the native addon',
    );
  }
  const packageDir = dirname(require.resolve('uWebSockets.js/package.json'));
  const binary = join(packageDir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  try {
    return require(binary) as Uws;
  } catch (err) {
    throw new NativeUwsError(
      `the native uWebSockets.js addon does not load on this platform (${process.platform}-${process.arch}, ` +
        `Node ABI ${process.versions.modules}): ${(err as Error).message.split('\n')[0]}. ` +
        'Run on Node.js 20 (or 16/18) on Linux x64/arm64 with glibc >= 2.27, or macOS; the pure-JS fallback is refused because it is too slow',
    );
  }
}

/** The native uWebSockets.js addon; loading this module throws NativeUwsError when it is unavailable. */
export const uws: Uws = loadNative();
