/**
 * The one native-uWS check of tests, benchmarks and scripts: uWebSockets.js through the
 * product's own loader (src/uws/uws.ts), which refuses the package's slow pure-JS fallback.
 */
/** The uWebSockets.js API as the product's loader exports it. */
export type Uws = typeof import('../src/uws/uws')['uws'];

/** Why the native uWS addon cannot be used here, or null when it loads. */
export function nativeUwsProblem(): string | null {
  try {
    require('../src/uws/uws');
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Returns the native uWS.js, or exits the process (a benchmark of the fallback would mean nothing). */
export function loadNativeUws(): Uws {
  try {
    return (require('../src/uws/uws') as { uws: Uws }).uws;
  } catch (err) {
    process.stderr.write(`uWebSockets.js native addon did not load: ${(err as Error).message}; refusing to run on the pure-JS fallback\n`);
    process.exit(1);
  }
}
