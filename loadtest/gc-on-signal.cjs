/**
 * Preload for idle-memory measurements (`node --expose-gc -r ./loadtest/gc-on-signal.cjs ...`):
 * on SIGUSR2 runs a full garbage collection twice, then prints one JSON line on stderr with
 * process.memoryUsage() (rss, heapTotal, heapUsed, external, arrayBuffers), so the measuring
 * script can tell JS heap from native memory. With GC_ON_SIGNAL_SNAPSHOT_DIR set it also writes a
 * heap snapshot there after the GCs (to diff idle-server heaps before and after connecting).
 */
'use strict';
process.on('SIGUSR2', () => {
  if (typeof global.gc !== 'function') {
    process.stderr.write('{"msg":"gc-on-signal","error":"start node with --expose-gc"}\n');
    return;
  }
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  const dir = process.env.GC_ON_SIGNAL_SNAPSHOT_DIR;
  let snapshot;
  if (dir) snapshot = require('node:v8').writeHeapSnapshot(require('node:path').join(dir, `heap-${process.pid}-${Date.now()}.heapsnapshot`));
  process.stderr.write(`${JSON.stringify({ msg: 'gc-on-signal', ...m, ...(snapshot ? { snapshot } : {}) })}\n`);
});
