import type { HistoryPolicies } from '../config/history-policy';
import { DEFAULT_IDEMPOTENCY_TTL } from '../config/options';
import { encodeData, encodeUnsequencedEnvelope } from '../protocol/envelope';
import type { Broker, HistoryPage, MessageHandler, PublishOptions, PublishResult, StateHandler } from './broker';
import { MemoryHistory } from './memory-history';
import { MemoryIdempotency } from './memory-idempotency';

/** The embedded single-process broker: publications go straight to this process's subscribers. */
export class MemoryBroker implements Broker {
  readonly kind = 'memory';
  private readonly channels = new Set<string>();
  private readonly store: MemoryHistory;
  private readonly idempotency: MemoryIdempotency;
  private handler: MessageHandler = () => {};
  private stateHandler: StateHandler = () => {};
  private open = false;
  /** Publications waiting for the next batch: channel, envelope, channel, envelope, … */
  private queue: Array<string | Buffer> = [];
  private flushTimer: NodeJS.Timeout | null = null;

  /**
   * `batchMs` > 0 fans publications out in batches every `batchMs` ms: publications that arrive
   * within one window share each subscriber's write (far fewer syscalls under load).
   * `idempotencyTtl`: seconds the result of a publish with an idempotency key is remembered.
   */
  constructor(
    policies: HistoryPolicies,
    metaTtl: number,
    private readonly batchMs = 0,
    idempotencyTtl = DEFAULT_IDEMPOTENCY_TTL,
  ) {
    this.store = new MemoryHistory(policies, metaTtl);
    this.idempotency = new MemoryIdempotency(idempotencyTtl);
  }

  private flush(): void {
    this.flushTimer = null;
    const queue = this.queue;
    this.queue = [];
    for (let i = 0; i < queue.length; i += 2) {
      const channel = queue[i] as string;
      if (this.channels.has(channel)) this.handler(channel, queue[i + 1] as Buffer);
    }
  }

  async start(): Promise<void> {
    this.open = true;
    this.stateHandler(true, 'ready');
  }

  async publish(channel: string, data: Uint8Array | string, options?: PublishOptions): Promise<PublishResult> {
    return this.publishNow(channel, data, options?.idempotencyKey);
  }

  /** Publishes synchronously (publish and publishMany); a key seen within the ttl publishes nothing. */
  private publishNow(channel: string, data: Uint8Array | string, key: string | undefined, now?: number): PublishResult {
    if (!this.open) throw new Error('memory broker is closed; publish before close()');
    if (key !== undefined) {
      const earlier = this.idempotency.lookup(channel, key);
      if (earlier !== undefined) return { position: earlier.position, repeated: true };
    }
    const dataElement = encodeData(data);
    const sequenced = this.store.append(channel, dataElement, now);
    const envelope = sequenced?.envelope ?? encodeUnsequencedEnvelope(dataElement);
    if (this.batchMs === 0) {
      if (this.channels.has(channel)) this.handler(channel, envelope);
    } else if (this.channels.has(channel)) {
      this.queue.push(channel, envelope);
      this.flushTimer ??= setTimeout(() => this.flush(), this.batchMs);
    }
    const position = sequenced?.position ?? null;
    if (key !== undefined) this.idempotency.remember(channel, key, position);
    return { position, repeated: false };
  }

  async publishMany(channel: string, data: ReadonlyArray<Uint8Array | string>, options?: ReadonlyArray<PublishOptions | undefined>): Promise<PublishResult[]> {
    const now = this.store.time();
    return data.map((item, i) => this.publishNow(channel, item, options?.[i]?.idempotencyKey, now));
  }

  async history(channel: string, since: number, limit: number): Promise<HistoryPage | null> {
    if (!this.open) throw new Error('memory broker is closed; read history before close()');
    return this.store.read(channel, since, limit);
  }

  async subscribe(channel: string): Promise<void> {
    this.channels.add(channel);
  }

  receivesAtOnce(): boolean {
    return this.open;
  }

  unsubscribe(channel: string): void {
    this.channels.delete(channel);
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  onState(handler: StateHandler): void {
    this.stateHandler = handler;
  }

  isReady(): boolean {
    return this.open;
  }

  readinessReason(): string {
    return this.open ? 'ready' : 'memory broker closed';
  }

  subscribedChannels(): ReadonlySet<string> {
    return this.channels;
  }

  async close(): Promise<void> {
    this.open = false;
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.queue = [];
    this.channels.clear();
    this.store.close();
    this.idempotency.close();
    this.stateHandler(false, 'memory broker closed');
  }
}
