/**
 * uWebSockets.js for the Node peers, through the server's own loader: the same build choice,
 * and the pure-JS fallback refused, which would make every figure meaningless.
 */
import { uws, type Uws } from '../../src/uws/uws.js';

export type { Uws };

/** Returns the native uWS.js API (the import throws NativeUwsError when no native build loads). */
export function loadNativeUws(): Uws {
  return uws;
}
