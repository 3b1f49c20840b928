import type { StreamPosition } from './broker';

/** A remembered publish: its position and until when (ms since 1970) it is remembered. */
interface Remembered {
  position: StreamPosition | null;
  expires: number;
}

/**
 * The memory broker's idempotency keys: per channel and key, the result of the first publish,
 * for `ttl` seconds after it (the semantics of the Redis keys). Expired entries go on the next
 * sweep, so memory stays bounded by the keys of the last ttl.
 */
export class MemoryIdempotency {
  private readonly entries = new Map<string, Remembered>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly ttl: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  /** The remembered result of `key` on `channel` ({position}), or undefined when there is none (or it expired). */
  lookup(channel: string, key: string): { position: StreamPosition | null } | undefined {
    const entry = this.entries.get(`${channel}/${key}`);
    if (entry === undefined || entry.expires <= this.now()) return undefined;
    return entry;
  }

  /** Remembers the result of the first publish with `key` on `channel`. */
  remember(channel: string, key: string, position: StreamPosition | null): void {
    // Channel names never contain "/", so "<channel>/<key>" names one pair.
    this.entries.set(`${channel}/${key}`, { position, expires: this.now() + this.ttl * 1000 });
  }

  /** Drops expired entries. */
  sweep(): void {
    const now = this.now();
    for (const [name, entry] of this.entries) if (entry.expires <= now) this.entries.delete(name);
  }

  /** Stops the sweeper and forgets everything. */
  close(): void {
    clearInterval(this.sweeper);
    this.entries.clear();
  }
}
