import Redis, { type RedisOptions } from 'ioredis';
import type { Logger } from '../log/logger';
import type { Broker, HistoryPage, MessageHandler, PublishOptions, PublishResult, StateHandler } from './broker';
import { RedisProbe } from './redis-probe';
import { type RedisBrokerSettings, reconnectDelay } from './redis-settings';
import { RedisStreams } from './redis-streams';
import { SubscriptionSet } from './subscription-set';

/** Settings of the Redis broker. */
export interface RedisBrokerOptions extends RedisBrokerSettings {
  /** redis:// or rediss:// URL. */
  url: string;
}

/**
 * Redis pub/sub broker: one subscriber and one publisher connection per process. Channels are
 * subscribed in batches once per tick, and all of them again after every reconnect.
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis';
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly prefixLength: number;
  private readonly logger: Logger;
  private readonly subscriptions: SubscriptionSet;
  private handler: MessageHandler = () => {};
  private stateHandler: StateHandler = () => {};
  private subReady = false;
  private pubReady = false;
  private lastReady = false;
  private closed = false;
  private lastError = '';
  private readonly streams: RedisStreams;
  private readonly probes: RedisProbe[];

  constructor(options: RedisBrokerOptions) {
    this.prefix = options.prefix;
    this.prefixLength = Buffer.byteLength(options.prefix);
    this.logger = options.logger.child({ component: 'redis' });
    const common: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
      retryStrategy: reconnectDelay,
    };
    // A command sent but unanswered when the connection drops may already have run in Redis:
    // resending it after the reconnect could store a publication twice. RedisStreams fails it instead.
    // No auto-pipelining here: ioredis runs one auto-pipeline at a time per connection, and one
    // whose commands are dropped unanswered (a stalled Redis, see above) never completes, so
    // every later command, probes included, would queue behind it (docs/BENCHMARKS.md, run L).
    this.pub = new Redis(options.url, { ...common, connectionName: 'broadcaster-pub', autoResendUnfulfilledCommands: false });
    this.sub = new Redis(options.url, { ...common, connectionName: 'broadcaster-sub', autoResubscribe: false });
    this.subscriptions = new SubscriptionSet(
      {
        label: 'redis',
        reachable: () => this.subReady,
        live: () => this.subReady,
        send: (command, channels) => this.sub[command](...channels.map((c) => this.prefix + c)),
      },
      this.logger,
    );
    this.watch(this.pub, 'publisher', (ready) => (this.pubReady = ready));
    this.watch(this.sub, 'subscriber', (ready) => {
      this.subReady = ready;
      if (ready) this.subscriptions.resubscribeAll();
      else this.subscriptions.settleAll();
    });
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      this.handler(channel.toString('latin1', this.prefixLength), message);
    });
    this.streams = new RedisStreams(this.pub, options.prefix, options.policies, options.metaTtl, options.idempotencyTtl);
    this.probes = [this.pub, this.sub].map(
      (conn) =>
        new RedisProbe(conn, options.probeInterval, options.probeTimeout, (waited) => {
          options.stats.brokerProbeFailures++;
          this.logger.warn(
            { role: conn === this.pub ? 'publisher' : 'subscriber', waitedMs: waited },
            'redis connection stalled: PING unanswered, reconnecting',
          );
        }),
    );
  }

  private watch(conn: Redis, role: string, setReady: (ready: boolean) => void): void {
    conn.on('ready', () => {
      this.logger.info({ role }, 'redis connection ready');
      setReady(true);
      this.report();
    });
    conn.on('close', () => {
      if (this.closed) return;
      setReady(false);
      this.report();
    });
    conn.on('reconnecting', (delay: number) => this.logger.debug({ role, delay }, 'redis reconnecting'));
    conn.on('error', (err: Error) => {
      if (err.message !== this.lastError) this.logger.warn({ role, err: err.message }, 'redis connection error');
      this.lastError = err.message;
    });
  }

  private report(): void {
    const ready = this.isReady();
    if (ready === this.lastReady) return;
    this.lastReady = ready;
    const reason = this.readinessReason();
    if (ready) this.lastError = '';
    this.logger[ready ? 'info' : 'warn']({ reason }, ready ? 'broker ready' : 'broker not ready');
    this.stateHandler(ready, reason);
  }

  async start(): Promise<void> {
    for (const conn of [this.pub, this.sub]) {
      // A failed first attempt is not fatal: the retry strategy keeps reconnecting and /readyz says 503.
      conn.connect().catch(() => {});
    }
  }

  publish(channel: string, data: Uint8Array | string, options?: PublishOptions): Promise<PublishResult> {
    return this.streams.publish(channel, data, options);
  }

  publishMany(channel: string, data: ReadonlyArray<Uint8Array | string>, options?: ReadonlyArray<PublishOptions | undefined>): Promise<PublishResult[]> {
    return this.streams.publishMany(channel, data, options);
  }

  history(channel: string, since: number, limit: number): Promise<HistoryPage | null> {
    return this.streams.history(channel, since, limit);
  }

  subscribe(channel: string): Promise<void> {
    return this.subscriptions.subscribe(channel);
  }

  receivesAtOnce(channel: string): boolean {
    return this.subscriptions.receivesAtOnce(channel);
  }

  unsubscribe(channel: string): void {
    this.subscriptions.unsubscribe(channel);
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  onState(handler: StateHandler): void {
    this.stateHandler = handler;
  }

  isReady(): boolean {
    return this.subReady && this.pubReady && !this.closed;
  }

  readinessReason(): string {
    if (this.closed) return 'redis broker closed';
    if (!this.subReady && !this.pubReady) return `redis unreachable${this.lastError ? `: ${this.lastError}` : ''}`;
    if (!this.subReady) return 'redis subscriber connection down';
    if (!this.pubReady) return 'redis publisher connection down';
    return 'ready';
  }

  subscribedChannels(): ReadonlySet<string> {
    return this.subscriptions.channels();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const probe of this.probes) probe.stop();
    this.subscriptions.settleAll();
    this.pub.disconnect();
    this.sub.disconnect();
    this.stateHandler(false, 'redis broker closed');
  }
}
