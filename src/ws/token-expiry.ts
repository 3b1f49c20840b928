/** Reason sent with the token-expired close frame. */
export const TOKEN_EXPIRED_REASON = 'token expired: reconnect with a fresh token';

/** What the expiry clock tracks: a connection with a token expiry. */
export interface Expiring {
  /** When the token expires (ms since 1970), or null for tokens without expiry. */
  readonly expiresAt: number | null;
  /** Second (since 1970) whose bucket holds this connection, or 0; owned by TokenExpiry. */
  expirySecond: number;
  /** Closes the connection with 4001 (called once its second passed). */
  expire(): void;
}

/**
 * Closes connections whose token expired (4001), one-second resolution. Connections sit in
 * buckets keyed by their expiry second, so a connection costs a set entry instead of a timer.
 */
export class TokenExpiry {
  private readonly buckets = new Map<number, Set<Expiring>>();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.tick(Date.now()), 1000);
    this.timer.unref();
  }

  /** (Re)schedules the close of `conn` for its token's expiry; no-op for tokens without expiry. */
  arm(conn: Expiring): void {
    this.cancel(conn);
    const expiresAt = conn.expiresAt;
    if (expiresAt === null) return;
    const second = Math.ceil(expiresAt / 1000);
    let bucket = this.buckets.get(second);
    if (bucket === undefined) this.buckets.set(second, (bucket = new Set()));
    bucket.add(conn);
    conn.expirySecond = second;
  }

  /** Removes `conn` from its bucket (on close, or before re-arming). */
  cancel(conn: Expiring): void {
    if (conn.expirySecond === 0) return;
    const bucket = this.buckets.get(conn.expirySecond);
    bucket?.delete(conn);
    if (bucket?.size === 0) this.buckets.delete(conn.expirySecond);
    conn.expirySecond = 0;
  }

  /** Expires every connection whose second is not after `now`'s (the timer calls it each second). */
  tick(now: number): void {
    const current = Math.floor(now / 1000);
    for (const [second, bucket] of this.buckets) {
      if (second > current) continue;
      this.buckets.delete(second);
      for (const conn of bucket) {
        conn.expirySecond = 0;
        conn.expire();
      }
    }
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.timer);
  }
}
