import { Cluster, type ClusterNode } from 'ioredis';
import type { Logger } from '../log/logger';
import type { Broker, HistoryPage, MessageHandler, PublishOptions, PublishResult, StateHandler } from './broker';
import { ClusterKeys } from './cluster/cluster-keys';
import { failLostReplies } from './cluster/lost-replies';
import { evenSlotTags } from './cluster/partition-tags';
import { ShardedSubscriptionSet } from './cluster/sharded-subscription-set';
import { PROBE_MARK, ShardProbe } from './cluster/shard-probe';
import { type RedisBrokerSettings, reconnectDelay } from './redis-settings';
import { RedisStreams } from './redis-streams';

const PROBE_CODE = PROBE_MARK.charCodeAt(0);

/** Settings of the Redis Cluster broker. */
export interface RedisClusterBrokerOptions extends RedisBrokerSettings {
  /** Startup nodes (any reachable node is enough; give several). */
  nodes: ClusterNode[];
  /** Partitions channels are spread over; every server and publisher of a deployment must use the same count. */
  partitions: number;
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
  private readonly streams: RedisStreams;
  private readonly probe: ShardProbe;
  private readonly logger: Logger;
  private readonly prefixLength: number;
  private readonly subscriptions: ShardedSubscriptionSet;
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
      clusterRetryStrategy: reconnectDelay,
      redisOptions: { connectionName: 'broadcaster', connectTimeout: 5000, maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false },
    });
    // A script whose reply was lost may have run: fail it (503 / 105) rather than let ioredis run it twice.
    failLostReplies(this.cluster);
    this.streams = new RedisStreams(this.cluster, this.keys, options.policies, options.metaTtl, options.idempotencyTtl);
    this.subscriptions = new ShardedSubscriptionSet(
      {
        label: 'redis cluster',
        reachable: () => this.connected(),
        live: () => this.isReady(),
        send: (command, channels) => this.cluster[command === 'subscribe' ? 'ssubscribe' : 'sunsubscribe'](...channels.map((c) => this.keys.shardChannel(c))),
      },
      this.logger,
      (channel) => this.keys.slotOf(channel),
    );
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
      this.subscriptions.resubscribeAll();
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
    if (!ready) this.subscriptions.settleAll();
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

  publish(channel: string, data: Uint8Array | string, options?: PublishOptions): Promise<PublishResult> {
    if (!this.connected()) return Promise.reject(new Error(`redis cluster not connected: ${this.readinessReason()}`));
    return this.streams.publish(channel, data, options);
  }

  publishMany(channel: string, data: ReadonlyArray<Uint8Array | string>, options?: ReadonlyArray<PublishOptions | undefined>): Promise<PublishResult[]> {
    if (!this.connected()) return Promise.reject(new Error(`redis cluster not connected: ${this.readinessReason()}`));
    return this.streams.publishMany(channel, data, options);
  }

  history(channel: string, since: number, limit: number): Promise<HistoryPage | null> {
    if (!this.connected()) return Promise.reject(new Error(`redis cluster not connected: ${this.readinessReason()}`));
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
    return this.connected() && this.probe.healthy();
  }

  readinessReason(): string {
    if (this.closed) return 'redis cluster broker closed';
    if (this.cluster.status !== 'ready') return `redis cluster unreachable (${this.cluster.status})${this.lastError ? `: ${this.lastError}` : ''}`;
    return this.probe.reason();
  }

  subscribedChannels(): ReadonlySet<string> {
    return this.subscriptions.channels();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.probe.stop();
    this.subscriptions.settleAll();
    this.cluster.disconnect();
    this.stateHandler(false, 'redis cluster broker closed');
  }
}
