import type Redis from 'ioredis';

/**
 * Detects stalled Redis connections: every `interval` ms a PING goes out on a ready connection;
 * if it is not answered within `timeout` ms the connection is dropped so ioredis reconnects.
 */
export class RedisProbe {
  private readonly timer: NodeJS.Timeout;
  /** Deadline of the probe in flight, or null. */
  private deadline: NodeJS.Timeout | null = null;

  constructor(
    private readonly conn: Redis,
    interval: number,
    private readonly timeout: number,
    private readonly onStall: (waitedMs: number) => void,
  ) {
    this.timer = setInterval(() => this.probe(), interval);
    this.timer.unref();
    // A probe in flight when the connection closes is void: its PING may never be answered
    // (a connection that does not resend unanswered commands), and the next one runs once ready.
    conn.on('close', () => this.settle());
  }

  private settle(): void {
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
  }

  private probe(): void {
    if (this.deadline !== null || this.conn.status !== 'ready') return;
    const started = Date.now();
    const deadline = setTimeout(() => {
      if (this.deadline !== deadline) return;
      this.settle();
      this.onStall(Date.now() - started);
      this.conn.disconnect(true);
    }, this.timeout);
    this.deadline = deadline;
    // A failed ping means the connection is already closing; its own events handle that.
    const answered = (): void => {
      if (this.deadline === deadline) this.settle();
    };
    this.conn.ping().then(answered, answered);
  }

  /** Stops probing. */
  stop(): void {
    clearInterval(this.timer);
    this.settle();
  }
}
