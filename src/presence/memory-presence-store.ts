import { randomBytes } from 'node:crypto';
import type { PresenceCounts, PresenceEntry, PresenceEventHandler, PresenceStore } from './presence-store';

/** One channel's presence: entries by client id, users' connection counts, nodes' deadlines. */
interface ChannelPresence {
  clients: Map<string, PresenceEntry & { node: string }>;
  users: Map<string, number>;
  /** Node id → ms deadline of its heartbeat. */
  nodes: Map<string, number>;
}

/**
 * The state memory stores share: one per process by default, or one handed to several stores to
 * play several nodes in one process (embedding, tests). Same data model as the Redis store.
 */
export class MemoryPresenceSpace {
  private readonly channels = new Map<string, ChannelPresence>();
  private readonly stores = new Set<MemoryPresenceStore>();

  /** @internal */
  attach(store: MemoryPresenceStore): void {
    this.stores.add(store);
  }

  /** @internal */
  detach(store: MemoryPresenceStore): void {
    this.stores.delete(store);
  }

  /** @internal The channel's state, dead nodes other than `self` removed (their entries returned as leaves). */
  channel(name: string, now: number, create: boolean, self: string): { presence: ChannelPresence | null; expired: PresenceEntry[] } {
    const presence = this.channels.get(name) ?? null;
    const expired: PresenceEntry[] = [];
    if (presence === null) {
      if (!create) return { presence, expired };
      const fresh: ChannelPresence = { clients: new Map(), users: new Map(), nodes: new Map() };
      this.channels.set(name, fresh);
      return { presence: fresh, expired };
    }
    for (const [node, deadline] of presence.nodes) {
      if (deadline > now || node === self) continue;
      presence.nodes.delete(node);
      for (const [id, entry] of presence.clients) if (entry.node === node) expired.push(this.remove(presence, id)!);
    }
    if (!create && presence.clients.size === 0 && presence.nodes.size === 0) this.channels.delete(name);
    return { presence, expired };
  }

  /** @internal The heartbeat deadline of `node` on `channel`, or null. */
  deadlineOf(channel: string, node: string): number | null {
    return this.channels.get(channel)?.nodes.get(node) ?? null;
  }

  /** @internal Removes one entry; returns it, or null when absent. */
  remove(presence: ChannelPresence, client: string): PresenceEntry | null {
    const entry = presence.clients.get(client);
    if (entry === undefined) return null;
    presence.clients.delete(client);
    if (entry.user !== null) {
      const left = (presence.users.get(entry.user) ?? 1) - 1;
      if (left === 0) presence.users.delete(entry.user);
      else presence.users.set(entry.user, left);
    }
    return { client: entry.client, user: entry.user, info: entry.info };
  }

  /** @internal Hands a batch to every store watching the channel (asynchronously, like a bus). */
  publish(channel: string, joins: PresenceEntry[], leaves: PresenceEntry[]): void {
    if (joins.length === 0 && leaves.length === 0) return;
    for (const store of this.stores) store.deliver(channel, joins, leaves);
  }
}

/** The shared default space of this process. */
const processSpace = new MemoryPresenceSpace();

/** The presence store of the in-memory broker: one process, or several stores over one MemoryPresenceSpace. */
export class MemoryPresenceStore implements PresenceStore {
  readonly kind = 'memory';
  readonly node = randomBytes(6).toString('base64url');
  private handler: PresenceEventHandler = () => {};
  private readonly watched = new Set<string>();
  private closed = false;

  constructor(
    /** Milliseconds a node's entries live after its last heartbeat. */
    private readonly ttl: number,
    private readonly space: MemoryPresenceSpace = processSpace,
  ) {
    space.attach(this);
  }

  async apply(channel: string, joins: readonly PresenceEntry[], leaves: readonly string[]): Promise<boolean> {
    this.assertOpen();
    const now = Date.now();
    const lapsed = this.lapsed(channel, now);
    const { presence, expired } = this.space.channel(channel, now, true, this.node);
    const p = presence!;
    p.nodes.set(this.node, now + this.ttl);
    const left = [...expired];
    for (const client of leaves) {
      const entry = p.clients.get(client);
      if (entry !== undefined && entry.node === this.node) left.push(this.space.remove(p, client)!);
    }
    const joined: PresenceEntry[] = [];
    for (const entry of joins) {
      if (p.clients.has(entry.client)) continue;
      p.clients.set(entry.client, { ...entry, node: this.node });
      if (entry.user !== null) p.users.set(entry.user, (p.users.get(entry.user) ?? 0) + 1);
      joined.push(entry);
    }
    this.space.publish(channel, joined, left);
    return lapsed;
  }

  async heartbeat(channels: readonly string[]): Promise<string[]> {
    this.assertOpen();
    const now = Date.now();
    const lapsed: string[] = [];
    for (const channel of channels) {
      if (this.lapsed(channel, now)) lapsed.push(channel);
      const { presence, expired } = this.space.channel(channel, now, true, this.node);
      presence!.nodes.set(this.node, now + this.ttl);
      this.space.publish(channel, [], expired);
    }
    return lapsed;
  }

  /** True when this node has no live deadline on `channel` (never wrote there, or it passed). */
  private lapsed(channel: string, now: number): boolean {
    const deadline = this.space.deadlineOf(channel, this.node);
    return deadline === null || deadline <= now;
  }

  async list(channel: string): Promise<PresenceEntry[]> {
    const { presence, expired } = this.space.channel(channel, Date.now(), false, this.node);
    this.space.publish(channel, [], expired);
    return presence === null ? [] : [...presence.clients.values()].map(({ client, user, info }) => ({ client, user, info }));
  }

  async counts(channel: string): Promise<PresenceCounts> {
    const { presence, expired } = this.space.channel(channel, Date.now(), false, this.node);
    this.space.publish(channel, [], expired);
    return { clients: presence?.clients.size ?? 0, users: presence?.users.size ?? 0 };
  }

  async watch(channel: string): Promise<void> {
    this.watched.add(channel);
  }

  unwatch(channel: string): void {
    this.watched.delete(channel);
  }

  onEvent(handler: PresenceEventHandler): void {
    this.handler = handler;
  }

  /** @internal A batch from the space. */
  deliver(channel: string, joins: PresenceEntry[], leaves: PresenceEntry[]): void {
    if (!this.watched.has(channel)) return;
    queueMicrotask(() => {
      if (!this.closed && this.watched.has(channel)) this.handler(channel, joins, leaves);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.space.detach(this);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the presence store is closed');
  }
}
