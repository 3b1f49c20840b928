import Redis, { type RedisOptions } from 'ioredis';
import type { HistoryPolicies } from '../config/history-policy';
import type { Logger } from '../log/logger';
import type { ServerStats } from '../stats';
import type { Broker, HistoryPage, MessageHandler, StateHandler, StreamPosition } from './broker';
import { RedisProbe } from './redis-probe';
import { RedisStreams } from './redis-streams';

/** Channels per SUBSCRIBE/UNSUBSCRIBE command when many change at once (e.g. after a reconnect). */
export const SUBSCRIBE_BATCH = 1000;

/** Settings of the Redis broker. */
export interface RedisBrokerOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Prefix of every Redis channel name. */
  prefix: string;
  /** Process logger. */
  logger: Logger;
  /** History size and ttl of each channel. */
  policies: HistoryPolicies;
  /** Seconds offset counters and epochs live after a channel's last publication. */
  metaTtl: number;
  /** Milliseconds between PING probes on each connection. */
  probeInterval: number;
  /** Milliseconds a probe may go unanswered before the connection is reopened. */
  probeTimeout: number;
  /** Process counters. */
  stats: ServerStats;
}

/** Reconnect delay: 50 ms doubling up to 2 s, forever. */
function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2000);
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
  private readonly wanted = new Set<string>();
  private readonly confirmed = new Set<string>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly toSubscribe = new Set<string>();
  private readonly toUnsubscribe = new Set<string>();
  private flushScheduled = false;
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
      retryStrategy: retryDelay,
    };
    // A command sent but unanswered when the connection drops may already have run in Redis:
    // resending it after the reconnect could store a publication twice. RedisStreams fails it instead.
    // No auto-pipelining here: ioredis runs one auto-pipeline at a time per connection, and one
    // whose commands are dropped unanswered (a stalled Redis, see above) never completes, so
    // every later command, probes included, would queue behind it (docs/BENCHMARKS.md, run L).
    this.pub = new Redis(options.url, { ...common, connectionName: 'broadcaster-pub', autoResendUnfulfilledCommands: false });
    this.sub = new Redis(options.url, { ...common, connectionName: 'broadcaster-sub', autoResubscribe: false });
    this.watch(this.pub, 'publisher', (ready) => (this.pubReady = ready));
    this.watch(this.sub, 'subscriber', (ready) => {
      this.subReady = ready;
      if (ready) this.resubscribeAll();
      else this.settleAll();
    });
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      this.handler(channel.toString('latin1', this.prefixLength), message);
    });
    this.streams = new RedisStreams(this.pub, options.prefix, options.policies, options.metaTtl);
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

  publish(channel: string, data: Uint8Array | string): Promise<StreamPosition | null> {
    return this.streams.publish(channel, data);
  }

  publishMany(channel: string, data: ReadonlyArray<Uint8Array | string>): Promise<StreamPosition | null> {
    return this.streams.publishMany(channel, data);
  }

  history(channel: string, since: number, limit: number): Promise<HistoryPage | null> {
    return this.streams.history(channel, since, limit);
  }

  subscribe(channel: string): Promise<void> {
    if (!this.wanted.has(channel)) {
      this.wanted.add(channel);
      this.toUnsubscribe.delete(channel);
      this.toSubscribe.add(channel);
      this.scheduleFlush();
    }
    if (this.confirmed.has(channel) || !this.subReady) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(channel);
      if (list === undefined) this.waiters.set(channel, [resolve]);
      else list.push(resolve);
    });
  }

  private settle(channels: readonly string[], confirmed: boolean): void {
    for (const channel of channels) {
      if (confirmed && this.wanted.has(channel)) this.confirmed.add(channel);
      const list = this.waiters.get(channel);
      if (list === undefined) continue;
      this.waiters.delete(channel);
      for (const resolve of list) resolve();
    }
  }

  /** Releases every waiter: used when the subscriber connection drops. */
  private settleAll(): void {
    this.confirmed.clear();
    this.settle([...this.waiters.keys()], false);
  }

  receivesAtOnce(channel: string): boolean {
    return this.subReady && this.confirmed.has(channel);
  }

  unsubscribe(channel: string): void {
    if (!this.wanted.delete(channel)) return;
    this.confirmed.delete(channel);
    this.toSubscribe.delete(channel);
    this.toUnsubscribe.add(channel);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (!this.subReady) {
        // Nothing reaches Redis now; the full wanted set is sent again on 'ready'.
        this.toSubscribe.clear();
        this.toUnsubscribe.clear();
        return;
      }
      this.send('subscribe', [...this.toSubscribe]);
      this.send('unsubscribe', [...this.toUnsubscribe]);
      this.toSubscribe.clear();
      this.toUnsubscribe.clear();
    });
  }

  private send(command: 'subscribe' | 'unsubscribe', channels: string[]): void {
    for (let i = 0; i < channels.length; i += SUBSCRIBE_BATCH) {
      const batch = channels.slice(i, i + SUBSCRIBE_BATCH);
      this.sub[command](...batch.map((c) => this.prefix + c)).then(
        () => {
          if (command === 'subscribe') this.settle(batch, true);
        },
        (err: Error) => {
          // A dropped connection is repaired by resubscribeAll() on the next 'ready'.
          this.logger.warn({ err: err.message, channels: batch.length }, `redis ${command} failed`);
          if (command === 'subscribe') this.settle(batch, false);
        },
      );
    }
  }

  private resubscribeAll(): void {
    this.toSubscribe.clear();
    this.toUnsubscribe.clear();
    if (this.wanted.size === 0) return;
    this.logger.info({ channels: this.wanted.size }, 'resubscribing channels');
    this.send('subscribe', [...this.wanted]);
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
    return this.wanted;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const probe of this.probes) probe.stop();
    this.settleAll();
    this.pub.disconnect();
    this.sub.disconnect();
    this.stateHandler(false, 'redis broker closed');
  }
}
