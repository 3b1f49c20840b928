import { CloseCode } from '../protocol/errors';
import type { WebSocket } from '../uws/uws';

/** Close code of a slow consumer closed under the `close` policy (docs/PROTOCOL.md, close codes). */
export const SLOW_CONSUMER_CLOSE_CODE = CloseCode.SlowConsumer;

/** Close reason sent with SLOW_CONSUMER_CLOSE_CODE. */
export const SLOW_CONSUMER_REASON = 'slow consumer: too far behind, reconnect with since= positions';

/** How long a slow consumer may take to read its backlog down to the limit before it is cut off without a close frame. */
export const SLOW_CONSUMER_GRACE_MS = 10_000;

/** Cuts a socket off (no close frame) unless it closed within SLOW_CONSUMER_GRACE_MS. */
export function cutOffAfterGrace(isClosed: () => boolean, cut: () => void): void {
  setTimeout(() => {
    if (!isClosed()) cut();
  }, SLOW_CONSUMER_GRACE_MS).unref();
}

/**
 * The `close` slow-consumer policy with a close code, for uWS builds that call the `dropped`
 * handler (the v20.57 line). uWS drops every frame, a close frame included, while a socket's
 * buffer is over maxBackpressure, so the close cannot be sent at the moment of the first drop:
 * the socket is marked then, and closed with 4002 from the `drain` handler as soon as its
 * buffer is back within the limit (the close frame queues behind the backlog the client is
 * still reading; every frame dropped meanwhile is after the client's last position). A socket
 * that does not drain within SLOW_CONSUMER_GRACE_MS is closed abruptly (1006 at the client).
 */
export class SlowConsumerClose<T extends object> {
  private readonly slow = new WeakSet<T>();

  /** `isClosed` tells from a socket's user data whether it closed (uWS forbids touching it then). */
  constructor(
    private readonly maxBackpressure: number,
    private readonly isClosed: (data: T) => boolean,
  ) {}

  /** Called from the `dropped` handler: uWS skipped a frame for `ws`. */
  dropped(ws: WebSocket<T>): void {
    const data = ws.getUserData();
    if (this.isClosed(data) || this.slow.has(data)) return;
    this.slow.add(data);
    cutOffAfterGrace(
      () => this.isClosed(data),
      () => ws.close(),
    );
  }

  /** Called from the `drain` handler: closes a marked socket with 4002 once its buffer is within the limit. */
  drain(ws: WebSocket<T>): void {
    const data = ws.getUserData();
    if (!this.slow.has(data) || this.isClosed(data) || ws.getBufferedAmount() > this.maxBackpressure) return;
    ws.end(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON);
  }
}
