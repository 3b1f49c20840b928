import type Redis from 'ioredis';

/**
 * Detects stalled Redis connections: every `interval` ms a PING goes out on a ready connection;
 * if it is not answered within `timeout` ms the connection is dropped so ioredis reconnects.
 */
export class RedisProbe {
  private readonly timer: NodeJS.Timeout;
  private inFlight = false;

  constructor(
    private readonly conn: Redis,
    interval: number,
    private readonly timeout: number,
    private readonly onStall: (waitedMs: number) => void,
  ) {
    this.timer = setInterval(() => this.probe(), interval);
    this.timer.unref();
  }

  private probe(): void {
    if (this.inFlight || this.conn.status !== 'ready') return;
    this.inFlight = true;
    const started = Date.now();
    let answered = false;
    const deadline = setTimeout(() => {
      if (answered) return;
      this.inFlight = false;
      this.onStall(Date.now() - started);
      this.conn.disconnect(true);
    }, this.timeout);
    this.conn.ping().then(
      () => {
        answered = true;
        clearTimeout(deadline);
        this.inFlight = false;
      },
      () => {
        // A failed ping means the connection is already closing; its own events handle that.
        answered = true;
        clearTimeout(deadline);
        this.inFlight = false;
      },
    );
  }

  /** Stops probing. */
  stop(): void {
    clearInterval(this.timer);
  }
}
