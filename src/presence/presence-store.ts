/** One client subscribed to a presence channel. */
export interface PresenceEntry {
  /** The connection's id (random, unique per connection). */
  client: string;
  /** The token's `sub`, or null for an anonymous connection. */
  user: string | null;
  /** The token's info claim (`--presence-info-claim`), or null. */
  info: unknown;
}

/** How many are present on a channel. */
export interface PresenceCounts {
  /** Connections present. */
  clients: number;
  /** Distinct users (`sub`) among them; anonymous connections are not users. */
  users: number;
}

/** Joins and leaves of one channel that took effect, as one batch. */
export type PresenceEventHandler = (channel: string, joins: readonly PresenceEntry[], leaves: readonly PresenceEntry[]) => void;

/**
 * Who is present on which channel, shared by every process (a node). Each node applies its own
 * joins and leaves and renews its heartbeat on the channels where it has entries; when a node
 * stops renewing, its entries expire `ttl` milliseconds after its last renewal (reads and the
 * next write of any node remove them and report them as leaves). Implementations: memory, redis.
 */
export interface PresenceStore {
  /** Short name for logs ("memory", "redis"). */
  readonly kind: string;
  /** This node's id (random per process). */
  readonly node: string;
  /**
   * Applies this node's joins and leaves of `channel` and renews its heartbeat there; the batch
   * reaches every watcher. Resolves true when this node's deadline there had passed (or it had
   * never written there): entries it wrote before may have been removed as a dead node's.
   */
  apply(channel: string, joins: readonly PresenceEntry[], leaves: readonly string[]): Promise<boolean>;
  /** Renews this node's heartbeat on `channels` (and expires dead nodes there); resolves with the channels where its deadline had passed. */
  heartbeat(channels: readonly string[]): Promise<string[]>;
  /** The entries of `channel` (dead nodes' entries removed first). */
  list(channel: string): Promise<PresenceEntry[]>;
  /** The counts of `channel` in O(1) (dead nodes' entries removed first). */
  counts(channel: string): Promise<PresenceCounts>;
  /** Starts delivering the join and leave batches of `channel` to the handler (idempotent). */
  watch(channel: string): Promise<void>;
  /** Stops delivering them. Idempotent. */
  unwatch(channel: string): void;
  /** Sets the handler of join and leave batches (one per store). */
  onEvent(handler: PresenceEventHandler): void;
  /** Stops the store (its connections); entries this node did not leave expire with its heartbeat. */
  close(): Promise<void>;
}
