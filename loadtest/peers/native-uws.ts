/**
 * Loads uWebSockets.js for the Node peers and refuses the package's silent pure-JS fallback,
 * which would make every figure meaningless.
 */
import * as uwsModule from 'uWebSockets.js';

/** The uWebSockets.js module type. */
export type Uws = typeof uwsModule;

/** Returns uWS.js, or exits when the native binary did not load. */
export function loadNativeUws(): Uws {
  const native = Object.keys(require.cache).some((k) => /uws_[a-z]+_[a-z0-9]+_\d+\.node$/.test(k));
  if (!native) {
    process.stderr.write('uWebSockets.js native binary did not load (pure-JS fallback); refusing to benchmark it\n');
    process.exit(1);
  }
  return uwsModule;
}
