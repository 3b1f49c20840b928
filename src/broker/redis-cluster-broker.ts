import { Cluster, type ClusterNode } from 'ioredis';
import type { HistoryPolicies } from '../config/history-policy';
import type { Logger } from '../log/logger';
import type { ServerStats } from '../stats';
import type { Broker, HistoryPage, MessageHandler, StateHandler, StreamPosition } from './broker';
import { ClusterKeys } from './cluster/cluster-keys';
import { ClusterStreams } from './cluster/cluster-streams';
import { evenSlotTags } from './cluster/partition-tags';
import { PROBE_MARK, ShardProbe } from './cluster/shard-probe';
import { SUBSCRIBE_BATCH } from './redis-broker';

const PROBE_CODE = PROBE_MARK.charCodeAt(0);

/** Settings of the Redis Cluster broker. */
export interface RedisClusterBrokerOptions {
  /** Startup nodes (any reachable node is enough; give several). */
  nodes: ClusterNode[];
  /** Partitions channels are spread over; every server and publisher of a deployment must use the same count. */
  partitions: number;
  /** Prefix of every key and shard channel name (no braces). */
  prefix: string;
  /** Process logger. */
  logger: Logger;
  /** History size and ttl of each channel. */
  policies: HistoryPolicies;
  /** Seconds offset counters and epochs live after a channel's last publication. */
  metaTtl: number;
  /** Milliseconds between shard probes. */
  probeInterval: number;
  /** Milliseconds a shard probe may go unanswered before the shard counts as unreachable. */
  probeTimeout: number;
  /** Process counters. */
  stats: ServerStats;
}

/** Reconnect delay of the whole cluster connection: 50 ms doubling up to 2 s, forever. */
function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2000);
}

/**
 * Redis Cluster broker: sharded pub/sub (`SPUBLISH` inside the history script, `SSUBSCRIBE` with
 * one call per slot), one ioredis `Cluster` whose sharded subscribers keep one connection per
 * master. Channels map to partitions whose hash tags spread evenly over the slots; a channel's
 * stream, meta hash and shard channel carry its tag. ioredis moves subscriptions to a slot's new
 * owner by itself; after it did, and whenever the shards are healthy again, the broker reports
 * ready so the hub checks each channel's history for what was missed.
 */
export class RedisClusterBroker implements Broker {
  readonly kind = 'redis-cluster';
  private readonly cluster: Cluster;
  private readonly keys: ClusterKeys;
  private readonly streams: ClusterStreams;
  private readonly probe: ShardProbe;
  private readonly logger: Logger;
  private readonly prefixLength: number;
  private readonly wanted = new Set<string>();
  private readonly confirmed = new Set<string>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly toSubscribe = new Set<string>();
  private readonly toUnsubscribe = new Set<string>();
  /** Channels ioredis holds (SSUBSCRIBE sent, no SUNSUBSCRIBE since): it resubscribes them itself. */
  private readonly held = new Set<string>();
  private flushScheduled = false;
  private handler: MessageHandler = () => {};
  private stateHandler: StateHandler = () => {};
  private probesSubscribed = false;
  private lastReady = false;
  private closed = false;
  private lastError = '';
  private checkScheduled = false;

  constructor(options: RedisClusterBrokerOptions) {
    this.logger = options.logger.child({ component: 'redis-cluster' });
    this.keys = new ClusterKeys(options.prefix, evenSlotTags(options.partitions));
    this.prefixLength = Buffer.byteLength(options.prefix);
    this.cluster = new Cluster(options.nodes, {
      lazyConnect: true,
      shardedSubscribers: true,
      // Commands wait while the slot map is (re)loaded; publish and history refuse first when not connected.
      enableOfflineQueue: true,
      clusterRetryStrategy: retryDelay,
      redisOptions: { connectionName: 'broadcaster', connectTimeout: 5000, maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false },
    });
    this.streams = new ClusterStreams(this.cluster, this.keys, options.policies, options.metaTtl);
    this.probe = new ShardProbe(
      this.cluster,
      this.keys,
      options.probeInterval,
      options.probeTimeout,
      () => this.report(),
      (owner, waited) => {
        options.stats.brokerProbeFailures++;
        this.logger.warn({ owner, waitedMs: waited }, 'redis cluster shard probe unanswered');
      },
    );
    this.cluster.on('smessageBuffer', (channel: Buffer, message: Buffer) => {
      const close = channel.indexOf(0x7d, this.prefixLength + 1);
      if (close < 0) return;
      if (channel[close + 1] === PROBE_CODE) {
        this.probe.received(message);
        return;
      }
      this.handler(channel.toString('latin1', close + 1), message);
    });
    this.cluster.on('ready', () => {
      this.logger.info('redis cluster connection ready');
      this.subscribeProbes();
      this.resubscribeAll();
      this.report();
    });
    this.cluster.on('close', () => this.report());
    this.cluster.on('end', () => this.report());
    // Without these listeners a failed node would crash the process (see docs/SCALING.md).
    this.cluster.on('error', (err: Error) => this.noteError(err.message));
    this.cluster.on('node error', (err: Error, node: string) => this.noteError(err.message, node));
    this.cluster.on('nodeError', (err: Error, node: string) => {
      this.noteError(err.message, node);
      this.probe.fail(node, err.message);
    });
    this.cluster.on('-node', (_redis: unknown, node: string | undefined) => {
      if (typeof node === 'string') this.probe.fail(node, 'connection closed');
    });
    this.cluster.on('subscribersReady', () => this.scheduleCheck('sharded subscribers remade'));
  }

  private noteError(message: string, node?: string): void {
    if (message === this.lastError) return;
    this.lastError = message;
    this.logger.warn({ err: message, node }, 'redis cluster error');
  }

  private report(): void {
    const ready = this.isReady();
    if (ready === this.lastReady) return;
    this.lastReady = ready;
    const reason = this.readinessReason();
    if (ready) this.lastError = '';
    this.logger[ready ? 'info' : 'warn']({ reason }, ready ? 'broker ready' : 'broker not ready');
    if (!ready) this.settleAll();
    this.stateHandler(ready, reason);
  }

  /**
   * After ioredis remade its sharded subscribers (failover, moved slot, node back) their
   * SSUBSCRIBEs are sent but not confirmed: once a later probe round went through every shard,
   * the broker reports ready again so the hub compares every channel with its history.
   */
  private scheduleCheck(why: string): void {
    // While not ready nothing to do yet: becoming ready makes the hub check anyway.
    if (this.checkScheduled || this.closed || !this.lastReady) return;
    this.checkScheduled = true;
    this.probe.nextHealthyRound().then(() => {
      this.checkScheduled = false;
      if (!this.isReady() || !this.lastReady) return;
      this.logger.info({ why }, 'checking channels against history');
      this.stateHandler(true, 'ready');
    });
  }

  async start(): Promise<void> {
    // A failed first attempt is not fatal: the retry strategy keeps reconnecting and /readyz says 503.
    this.cluster.connect().catch(() => {});
    this.probe.start();
  }

  private subscribeProbes(): void {
    if (this.probesSubscribed) return;
    this.probesSubscribed = true;
    // One SSUBSCRIBE per probe channel: each is in a slot of its own.
    Promise.all(this.probe.channels.map((name) => this.cluster.ssubscribe(name))).then(
      () => this.probe.probeNow(),
      (err: Error) => {
        this.probesSubscribed = false;
        this.logger.warn({ err: err.message }, 'redis cluster probe subscribe failed');
      },
    );
  }

  private connected(): boolean {
    return !this.closed && this.cluster.status === 'ready';
  }

  publish(channel: string, data: Uint8Array | string): Promise<StreamPosition | null> {
    if (!this.connected()) return Promise.reject(new Error(`redis cluster not connected: ${this.readinessReason()}`));
    return this.streams.publish(channel, data);
  }

  publishMany(channel: string, data: ReadonlyArray<Uint8Array | string>): Promise<StreamPosition | null> {
    if (!this.connected()) return Promise.reject(new Error(`redis cluster not connected: ${this.readinessReason()}`));
    return this.streams.publishMany(channel, data);
  }

  history(channel: string, since: number, limit: number): Promise<HistoryPage | null> {
    if (!this.connected()) return Promise.reject(new Error(`redis cluster not connected: ${this.readinessReason()}`));
    return this.streams.history(channel, since, limit);
  }

  subscribe(channel: string): Promise<void> {
    if (!this.wanted.has(channel)) {
      this.wanted.add(channel);
      this.toUnsubscribe.delete(channel);
      this.toSubscribe.add(channel);
      this.scheduleFlush();
    }
    if (this.confirmed.has(channel) || !this.isReady()) return Promise.resolve();
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

  private settleAll(): void {
    this.confirmed.clear();
    this.settle([...this.waiters.keys()], false);
  }

  receivesAtOnce(channel: string): boolean {
    return this.isReady() && this.confirmed.has(channel);
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
      if (!this.connected()) {
        // Nothing reaches the cluster now; what is wanted and not held is sent on 'ready'.
        this.toSubscribe.clear();
        this.toUnsubscribe.clear();
        return;
      }
      this.send('ssubscribe', [...this.toSubscribe]);
      this.send('sunsubscribe', [...this.toUnsubscribe]);
      this.toSubscribe.clear();
      this.toUnsubscribe.clear();
    });
  }

  /** One command per slot (ioredis refuses a multi-slot SSUBSCRIBE), always with names. */
  private send(command: 'ssubscribe' | 'sunsubscribe', channels: string[]): void {
    const list = command === 'ssubscribe' ? channels.filter((c) => !this.held.has(c)) : channels.filter((c) => this.held.has(c));
    if (command === 'ssubscribe')
      this.settle(
        channels.filter((c) => this.held.has(c)),
        true,
      );
    const bySlot = new Map<number, string[]>();
    for (const channel of list) {
      const slot = this.keys.slotOf(channel);
      const group = bySlot.get(slot);
      if (group === undefined) bySlot.set(slot, [channel]);
      else group.push(channel);
    }
    for (const group of bySlot.values()) {
      for (let i = 0; i < group.length; i += SUBSCRIBE_BATCH) {
        const batch = group.slice(i, i + SUBSCRIBE_BATCH);
        for (const channel of batch) {
          if (command === 'ssubscribe') this.held.add(channel);
          else this.held.delete(channel);
        }
        this.cluster[command](...batch.map((c) => this.keys.shardChannel(c))).then(
          () => {
            if (command === 'ssubscribe') this.settle(batch, true);
          },
          (err: Error) => {
            this.logger.warn({ err: err.message, channels: batch.length }, `redis cluster ${command} failed`);
            if (command === 'ssubscribe') {
              // Sent again on the next 'ready'.
              for (const channel of batch) this.held.delete(channel);
              this.settle(batch, false);
            }
          },
        );
      }
    }
  }

  private resubscribeAll(): void {
    this.toSubscribe.clear();
    this.toUnsubscribe.clear();
    if (this.wanted.size > 0) this.send('ssubscribe', [...this.wanted]);
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  onState(handler: StateHandler): void {
    this.stateHandler = handler;
  }

  isReady(): boolean {
    return this.connected() && this.probe.healthy();
  }

  readinessReason(): string {
    if (this.closed) return 'redis cluster broker closed';
    if (this.cluster.status !== 'ready') return `redis cluster unreachable (${this.cluster.status})${this.lastError ? `: ${this.lastError}` : ''}`;
    return this.probe.reason();
  }

  subscribedChannels(): ReadonlySet<string> {
    return this.wanted;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.probe.stop();
    this.settleAll();
    this.cluster.disconnect();
    this.stateHandler(false, 'redis cluster broker closed');
  }
}
