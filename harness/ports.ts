import { createServer } from 'node:net';

/**
 * Ports handed out for processes that cannot listen on port 0 (redis-server, a supervisor's
 * shared port, admin ports, peers sharing an SO_REUSEPORT port): below Linux's ephemeral range
 * (32768-60999), so no client connection — a load generator opens thousands — can take one as
 * its source port meanwhile. Whoever uses one must still notice a bind failure: the check and
 * the bind are not atomic.
 */
export const PORT_RANGE: readonly [number, number] = [20_000, 32_767];

/** True when 127.0.0.1:`port` can be bound right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Finds `count` consecutive free TCP ports on 127.0.0.1 in PORT_RANGE; returns the first. */
export async function freePortRange(count: number): Promise<number> {
  const [low, high] = PORT_RANGE;
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low - count));
    let free = true;
    for (let p = base; p < base + count && free; p++) free = await isPortFree(p);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1 between ${low} and ${high}`);
}

/** A free TCP port on 127.0.0.1 for a process that cannot listen on port 0. */
export function freePort(): Promise<number> {
  return freePortRange(1);
}
