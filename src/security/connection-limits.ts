import { readFileSync } from 'node:fs';

/** Descriptors kept free for Redis, the admin port, logs and listening sockets. */
export const DESCRIPTOR_RESERVE = 256;

/** The process's open-files soft limit (Linux /proc), or null when unknown. */
export function openFilesLimit(): number | null {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/** Why a connection is refused: the process is full, or its address has too many. */
export type ConnectionRefusal = 'process' | 'address';

/** Counts connections per process and per client address; both limits are checked at upgrade. */
export class ConnectionLimits {
  /** Most connections of this process. */
  readonly maxTotal: number;
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(maxConnections: number, private readonly maxPerAddress: number) {
    const fds = openFilesLimit();
    this.maxTotal = maxConnections > 0 ? maxConnections : fds === null ? 1_000_000 : Math.max(1, fds - DESCRIPTOR_RESERVE);
  }

  /** Reserves a slot for `address`, or says why there is none. */
  acquire(address: string): ConnectionRefusal | null {
    if (this.total >= this.maxTotal) return 'process';
    const count = this.perAddress.get(address) ?? 0;
    if (this.maxPerAddress > 0 && count >= this.maxPerAddress) return 'address';
    this.total++;
    this.perAddress.set(address, count + 1);
    return null;
  }

  /** Gives back a slot taken by `acquire`. */
  release(address: string): void {
    this.total--;
    const count = (this.perAddress.get(address) ?? 1) - 1;
    if (count > 0) this.perAddress.set(address, count);
    else this.perAddress.delete(address);
  }
}
