import type { Clock } from './clock';
import { BroadcasterError, ClientErrorCode } from './errors';

interface Pending {
  resolve(result: unknown): void;
  reject(err: BroadcasterError): void;
  timer: unknown;
}

/** Commands waiting for their reply, by request id (unsigned 32-bit, wrapping), each with a timeout. */
export class PendingRequests {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(private readonly clock: Clock) {}

  /**
   * Sends the frame `build(id)` through `send` and resolves with the reply's result, or rejects
   * with the error reply, code 3 after `timeout` ms, or code 2 when `send` refuses the frame.
   */
  start(build: (id: number) => Uint8Array, send: (frame: Uint8Array) => boolean, timeout: number): Promise<unknown> {
    this.nextId = (this.nextId % 0xffffffff) + 1;
    const id = this.nextId;
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        if (this.pending.delete(id)) reject(new BroadcasterError(ClientErrorCode.Timeout, `no reply within ${timeout} ms`));
      }, timeout);
      this.pending.set(id, { resolve, reject, timer });
      if (!send(build(id))) this.take(id)?.reject(new BroadcasterError(ClientErrorCode.ConnectionLost, 'the socket refused the frame'));
    });
  }

  /** Settles request `id` with an ok reply; false when no such request waits. */
  resolve(id: number, result: unknown): boolean {
    const pending = this.take(id);
    pending?.resolve(result);
    return pending !== undefined;
  }

  /** Settles request `id` with an error; false when no such request waits. */
  reject(id: number, err: BroadcasterError): boolean {
    const pending = this.take(id);
    pending?.reject(err);
    return pending !== undefined;
  }

  /** Rejects every waiting request with `err` (the connection closed). */
  rejectAll(err: BroadcasterError): void {
    for (const id of [...this.pending.keys()]) this.take(id)?.reject(err);
  }

  private take(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    if (pending === undefined) return undefined;
    this.pending.delete(id);
    this.clock.clearTimeout(pending.timer);
    return pending;
  }
}
