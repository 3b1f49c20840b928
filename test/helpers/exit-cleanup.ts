/**
 * Synchronous last-resort cleanups run when the test process exits (normally, on an uncaught
 * error, or on SIGINT/SIGTERM/SIGHUP), for resources that must not outlive a failed test: child
 * PIDs, network namespaces. Each registration returns a function that removes it again.
 */
const cleanups = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // best effort: the next cleanup still runs
    }
  }
}

/** Registers `cleanup` to run synchronously at process exit; call the returned function to unregister. */
export function onProcessExit(cleanup: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        runAll();
        process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
      });
    }
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}
