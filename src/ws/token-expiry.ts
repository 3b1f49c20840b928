import { CloseCode } from '../protocol/opcodes';
import type { SocketData } from './connection';
import type { WebSocket } from '../uws/uws';

/** Reason sent with the token-expired close frame. */
export const TOKEN_EXPIRED_REASON = 'token expired: reconnect with a fresh token';

/**
 * Closes connections whose token expired (4001), one-second resolution. Sockets sit in buckets
 * keyed by their expiry second, so a connection costs a set entry instead of a timer.
 */
export class TokenExpiry {
  private readonly buckets = new Map<number, Set<WebSocket<SocketData>>>();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.tick(Date.now()), 1000);
    this.timer.unref();
  }

  /** (Re)schedules the close of `ws` for its token's expiry; no-op for tokens without expiry. */
  arm(ws: WebSocket<SocketData>): void {
    const data = ws.getUserData();
    this.cancel(ws);
    const expiresAt = data.access.expiresAt;
    if (expiresAt === null) return;
    const second = Math.ceil(expiresAt / 1000);
    let bucket = this.buckets.get(second);
    if (bucket === undefined) this.buckets.set(second, (bucket = new Set()));
    bucket.add(ws);
    data.expirySecond = second;
  }

  /** Removes `ws` from its bucket (on close, or before re-arming). */
  cancel(ws: WebSocket<SocketData>): void {
    const data = ws.getUserData();
    if (data.expirySecond === 0) return;
    const bucket = this.buckets.get(data.expirySecond);
    bucket?.delete(ws);
    if (bucket?.size === 0) this.buckets.delete(data.expirySecond);
    data.expirySecond = 0;
  }

  private tick(now: number): void {
    const current = Math.floor(now / 1000);
    for (const [second, bucket] of this.buckets) {
      if (second > current) continue;
      this.buckets.delete(second);
      for (const ws of bucket) {
        const data = ws.getUserData();
        data.expirySecond = 0;
        if (!data.closed) ws.end(CloseCode.TokenExpired, TOKEN_EXPIRED_REASON);
      }
    }
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.timer);
  }
}
