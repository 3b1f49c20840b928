import { TestClient } from './test-client';
import { sleep } from './wait';

/**
 * A client that behaves like a production one: when the server closes it with 1001 (going away)
 * it connects again to the same URL, retrying a refused attempt every 50 ms (at most 100 times).
 */
export class ReconnectingClient {
  /** Close codes received, in order. */
  readonly closes: number[] = [];
  /** Connection attempts that failed while reconnecting. */
  failedAttempts = 0;
  /** Number of successful reconnections. */
  reconnects = 0;
  private stopped = false;
  private reconnecting: Promise<void> | null = null;

  private constructor(
    readonly url: string,
    public current: TestClient,
  ) {
    this.watch(current);
  }

  /** Connects to `url`. */
  static async connect(url: string): Promise<ReconnectingClient> {
    return new ReconnectingClient(url, await TestClient.connect(url));
  }

  /** True while the current connection is open. */
  get open(): boolean {
    return this.reconnecting === null && this.current.closed === null;
  }

  private watch(client: TestClient): void {
    client.ws.once('close', (code: number) => {
      this.closes.push(code);
      if (code === 1001 && !this.stopped) this.reconnecting = this.reconnect().finally(() => (this.reconnecting = null));
    });
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; attempt < 100 && !this.stopped; attempt++) {
      try {
        this.current = await TestClient.connect(this.url);
        this.reconnects++;
        this.watch(this.current);
        return;
      } catch {
        this.failedAttempts++;
        await sleep(50);
      }
    }
  }

  /** Stops reconnecting and closes the current connection. */
  async close(): Promise<void> {
    this.stopped = true;
    await this.reconnecting;
    await this.current.close();
  }
}
