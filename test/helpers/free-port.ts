import { createServer } from 'node:net';

/**
 * Ports handed out for servers that must listen on a fixed port: below the kernel's ephemeral
 * range (32768-60999), so no client connection can take one as its source port meanwhile.
 */
const LOW = 20000;
const HIGH = 32767;

/** True when 127.0.0.1:`port` can be bound right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Finds `count` consecutive free TCP ports on 127.0.0.1 below the ephemeral range; returns the first. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW - count));
    let free = true;
    for (let p = base; p < base + count && free; p++) free = await isPortFree(p);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1 between ${LOW} and ${HIGH}`);
}

/** A free TCP port on 127.0.0.1 for a process that cannot listen on port 0. */
export function freePort(): Promise<number> {
  return freePortRange(1);
}
