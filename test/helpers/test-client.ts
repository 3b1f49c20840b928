import { unpack, pack } from 'msgpackr';
import WebSocket from 'ws';
import { Frame } from '../../src/protocol/opcodes';

/** A decoded server frame. */
export type ServerFrame = unknown[];

/** A publication as the tests see it. */
export interface Publication {
  channel: string;
  offset: number | null;
  data: Buffer | string;
}

/** A real WebSocket client speaking the msgpack protocol, recording everything it receives. */
export class TestClient {
  /** Every frame received, decoded, in order. */
  readonly frames: ServerFrame[] = [];
  /** Close code and reason once closed. */
  closed: { code: number; reason: string } | null = null;
  private nextId = 1;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(unpack(data) as ServerFrame);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Connects to `url`; resolves once open, rejects with the HTTP status when refused. */
  static connect(url: string): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  /** Publications received so far. */
  publications(channel?: string): Publication[] {
    return this.frames
      .filter((f) => f[0] === Frame.Publication && (channel === undefined || f[1] === channel))
      .map((f) => ({ channel: f[1] as string, offset: f[2] as number | null, data: f[3] as Buffer | string }));
  }

  /** Waits until `check` holds over the received frames. */
  async until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
    const timer = setTimeout(() => this.wake(), timeoutMs);
    const deadline = Date.now() + timeoutMs;
    try {
      while (!check()) {
        if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames)}`);
        await new Promise<void>((resolve) => {
          // Cleared on wake-up, so a finished wait leaves no timer keeping the test process alive.
          const step = setTimeout(resolve, Math.max(0, deadline - Date.now()));
          this.waiters.push(() => {
            clearTimeout(step);
            resolve();
          });
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for `count` publications (on `channel` if given) and returns them. */
  async waitPublications(count: number, channel?: string): Promise<Publication[]> {
    await this.until(`${count} publications`, () => this.publications(channel).length >= count);
    return this.publications(channel);
  }

  /** Sends raw bytes. */
  sendRaw(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  /** Sends `[op, id, ...args]` with a fresh id and resolves with the reply or error frame. */
  async command(op: number, ...args: unknown[]): Promise<ServerFrame> {
    const id = this.nextId++;
    this.ws.send(pack([op, id, ...args]));
    return this.reply(id);
  }

  /** Waits for the reply or error frame with request id `id`. */
  async reply(id: number | null): Promise<ServerFrame> {
    const find = () => this.frames.find((f) => (f[0] === Frame.Reply || f[0] === Frame.Error) && f[1] === id);
    await this.until(`reply to request ${id}`, () => find() !== undefined);
    return find()!;
  }

  /** Waits until the server closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    await this.until('close', () => this.closed !== null, timeoutMs);
    return this.closed!;
  }

  /** Closes the connection and waits for the close handshake. */
  async close(): Promise<void> {
    if (this.closed !== null) return;
    this.ws.close();
    try {
      await this.waitClosed(2000);
    } catch {
      this.ws.terminate();
    }
  }
}

/** POSTs `body` to the publish endpoint; resolves with status and parsed JSON. */
export async function httpPublish(base: string, channel: string, body: Uint8Array | string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/v1/channels/${channel}/publish`, { method: 'POST', body: typeof body === 'string' ? body : Buffer.from(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Connects clients to a server and closes them all at the end of a suite. */
export class ClientPool {
  private readonly clients: TestClient[] = [];

  constructor(private readonly url: (query: string) => string) {}

  /** Connects a client with `query` (e.g. "?channels=a"); it is closed by closeAll. */
  async connect(query = ''): Promise<TestClient> {
    const client = await TestClient.connect(this.url(query));
    this.clients.push(client);
    return client;
  }

  /** Closes every client connected through the pool. */
  async closeAll(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.close()));
  }
}
