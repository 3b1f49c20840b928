import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { pack, unpack } from 'msgpackr';
import { PresenceKeys } from './presence-keys';
import type { PresenceCounts, PresenceEntry, PresenceEventHandler, PresenceStore } from './presence-store';
import { PRESENCE_SCRIPT } from './redis-presence-script';

/** A plain ioredis client or a Redis Cluster client: the store uses only what both offer. */
export type RedisLike = Redis | Cluster;

/** What the Redis presence store is built from. */
export interface RedisPresenceOptions {
  /** Connection for the script and SPUBLISH (owned: closed by close()). */
  command: RedisLike;
  /** Connection in subscriber mode for SSUBSCRIBE (owned: closed by close()). */
  subscriber: RedisLike;
  /** Prefix of every key (the server's --redis-prefix). */
  prefix: string;
  /** Milliseconds a node's entries live after its last heartbeat. */
  ttl: number;
}

type ScriptReply = [Buffer[], Buffer[], unknown];
type WithScript = { bcPresence(...args: (string | number)[]): Promise<ScriptReply> };

function parseEntry(json: Buffer | string): PresenceEntry {
  const { client, user, info } = JSON.parse(json.toString()) as PresenceEntry;
  return { client, user: user ?? null, info: info ?? null };
}

/**
 * Presence in Redis (a single server or a cluster): one Lua script per channel change batch,
 * heartbeat or read, and the batches of joins and leaves on a shard channel (SPUBLISH/SSUBSCRIBE,
 * which Redis 7 offers on a single server too). Names: see PresenceKeys.
 */
export class RedisPresenceStore implements PresenceStore {
  readonly kind = 'redis';
  readonly node = randomBytes(6).toString('base64url');
  private readonly keys: PresenceKeys;
  private readonly command: RedisLike & WithScript;
  private readonly subscriber: RedisLike;
  private readonly ttl: number;
  private handler: PresenceEventHandler = () => {};
  private readonly watched = new Set<string>();

  constructor(options: RedisPresenceOptions) {
    this.keys = new PresenceKeys(options.prefix);
    this.ttl = options.ttl;
    options.command.defineCommand('bcPresence', { numberOfKeys: 3, lua: PRESENCE_SCRIPT });
    this.command = options.command as RedisLike & WithScript;
    this.subscriber = options.subscriber;
    this.subscriber.on('smessageBuffer', (name: Buffer, message: Buffer) => this.received(name.toString('latin1'), message));
  }

  private run(channel: string, mode: string, extra: (string | number)[] = []): Promise<ScriptReply> {
    const k = this.keys;
    return this.command.bcPresence(
      k.clients(channel),
      k.users(channel),
      k.nodes(channel),
      k.nodeSetBase(channel),
      this.node,
      Date.now(),
      this.ttl,
      mode,
      ...extra,
    );
  }

  /** Runs the script and publishes what took effect. */
  private async change(channel: string, mode: 'apply' | 'beat' | 'list' | 'counts', extra: (string | number)[] = []): Promise<unknown> {
    const [joined, left, result] = await this.run(channel, mode, extra);
    if (joined.length > 0 || left.length > 0) {
      await this.command.spublish(this.keys.events(channel), pack([joined.map(String), left.map(String)]));
    }
    return result;
  }

  async apply(channel: string, joins: readonly PresenceEntry[], leaves: readonly string[]): Promise<boolean> {
    const args: (string | number)[] = [joins.length];
    for (const e of joins) args.push(e.client, e.user ?? '', JSON.stringify({ client: e.client, user: e.user, info: e.info ?? null }));
    for (const client of leaves) args.push(client);
    return (await this.change(channel, 'apply', args)) === 1;
  }

  async heartbeat(channels: readonly string[]): Promise<string[]> {
    const lapsed = await Promise.all(channels.map((channel) => this.change(channel, 'beat', [0])));
    return channels.filter((_, i) => lapsed[i] === 1);
  }

  async list(channel: string): Promise<PresenceEntry[]> {
    return ((await this.change(channel, 'list')) as Buffer[]).map(parseEntry);
  }

  async counts(channel: string): Promise<PresenceCounts> {
    const [clients, users] = (await this.change(channel, 'counts')) as [number, number];
    return { clients, users };
  }

  async watch(channel: string): Promise<void> {
    if (this.watched.has(channel)) return;
    this.watched.add(channel);
    await this.subscriber.ssubscribe(this.keys.events(channel));
  }

  unwatch(channel: string): void {
    if (!this.watched.delete(channel)) return;
    this.subscriber.sunsubscribe(this.keys.events(channel)).catch(() => {
      // The subscriber reconnects without it (ioredis resubscribes only what is still subscribed).
    });
  }

  onEvent(handler: PresenceEventHandler): void {
    this.handler = handler;
  }

  private received(name: string, message: Buffer): void {
    const channel = this.keys.channelOfEvents(name);
    if (channel === null || !this.watched.has(channel)) return;
    let joins: PresenceEntry[];
    let leaves: PresenceEntry[];
    try {
      const batch = unpack(message) as [string[], string[]];
      joins = batch[0].map(parseEntry);
      leaves = batch[1].map(parseEntry);
    } catch {
      return; // Not one of ours: ignored.
    }
    this.handler(channel, joins, leaves);
  }

  async close(): Promise<void> {
    this.watched.clear();
    this.subscriber.disconnect();
    await this.command.quit().catch(() => this.command.disconnect());
  }
}
