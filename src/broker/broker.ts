/** Receives every envelope published on a channel this process subscribed to. */
export type MessageHandler = (channel: string, envelope: Buffer) => void;

/** Called when the broker becomes ready or stops being ready, with the reason. */
export type StateHandler = (ready: boolean, reason: string) => void;

/** A position in a channel's stream: the offset of its latest publication within an epoch. */
export interface StreamPosition {
  /** Offset of the latest publication (0 before the first one). */
  offset: number;
  /** Identifier of the channel's current history; it changes whenever the history is lost. */
  epoch: string;
}

/** Options of one publication. */
export interface PublishOptions {
  /**
   * Publish at most once per key and channel: the first publish with this key on the channel
   * publishes and its result is kept for the broker's idempotency ttl (`--idempotency-ttl`); a
   * repeat within it publishes, stores and fans out nothing and answers that first result with
   * `repeated: true`. Atomic with the publication. 1 to 128 characters from
   * A-Z a-z 0-9 _ . : @ = + / - (src/protocol/idempotency-key.ts); the caller checks it.
   */
  idempotencyKey?: string;
}

/** What a publish did. */
export interface PublishResult {
  /** The publication's position, or null when the channel keeps no history. */
  position: StreamPosition | null;
  /** True when an earlier publish with the same idempotency key made the publication: nothing was published now, `position` is the earlier one's. */
  repeated: boolean;
}

/** One publication kept in history. */
export interface HistoryEntry {
  /** Its offset in the channel. */
  offset: number;
  /** Its envelope `[1, data, offset, epoch]`, as fanned out. */
  envelope: Buffer;
}

/** A slice of a channel's history. */
export interface HistoryPage {
  /** The channel's current epoch. */
  epoch: string;
  /** Offset of the channel's latest publication. */
  top: number;
  /** Publications after the requested offset, oldest first, at most the requested number. */
  publications: HistoryEntry[];
}

/** The part of a broker that reads history (what gap repair and recovery need). */
export type HistoryReader = Pick<Broker, 'history'>;

/**
 * The bus between processes. Implementations: `memory` (one process), `redis` and `redis-cluster`.
 * The server calls subscribe once per channel when its first local subscriber arrives and
 * unsubscribe after its last one leaves; the broker keeps that set across reconnects.
 */
export interface Broker {
  /** Short name for logs and metrics ("memory", "redis"). */
  readonly kind: string;
  /** Starts connecting; resolves at once, readiness is reported through onState. */
  start(): Promise<void>;
  /**
   * Publishes `data` on `channel` (bytes reach subscribers as msgpack bin, strings as str); the
   * broker builds its own wire format. When the channel keeps history, the next offset, the
   * history write and the fan-out happen atomically and the result carries the new position;
   * otherwise a null position. With `options.idempotencyKey`, a repeat within the ttl publishes
   * nothing and answers the first result (`repeated: true`), atomically with the publication.
   * Rejects when the bus cannot take it.
   */
  publish(channel: string, data: Uint8Array | string, options?: PublishOptions): Promise<PublishResult>;
  /**
   * Publishes several `data` on one `channel`, in order, as `publish` would one after another,
   * but in one call to the bus (batch publish); `options[i]` (optional) applies to `data[i]`.
   * With history they get consecutive offsets (repeats of an idempotency key get none) and each is
   * stored and fanned out with its own, atomically; resolves with one result per item, in order.
   * `data` is not empty.
   */
  publishMany(channel: string, data: ReadonlyArray<Uint8Array | string>, options?: ReadonlyArray<PublishOptions | undefined>): Promise<PublishResult[]>;
  /**
   * Reads publications with offset > `since` (at most `limit`), with the channel's epoch and
   * latest offset. Null when the channel keeps no history. Rejects when the bus is unreachable.
   */
  history(channel: string, since: number, limit: number): Promise<HistoryPage | null>;
  /**
   * Starts receiving `channel` (idempotent). Resolves once the bus confirmed the subscription,
   * or at once while the bus is down (the subscription is then made when it returns).
   */
  subscribe(channel: string): Promise<void>;
  /** True when a subscription to `channel` takes effect at once: no round trip to the bus is needed. */
  receivesAtOnce(channel: string): boolean;
  /** Stops receiving `channel`. Idempotent. */
  unsubscribe(channel: string): void;
  /** Sets the handler of incoming envelopes (one per broker). */
  onMessage(handler: MessageHandler): void;
  /**
   * Sets the handler of readiness changes (one per broker). A broker may report `true` again while
   * ready when it remade subscriptions (e.g. moved to a shard's new owner): the hub then checks
   * every channel against its history, as after a reconnect.
   */
  onState(handler: StateHandler): void;
  /** True while publish and subscribe reach the bus. */
  isReady(): boolean;
  /** Why the broker is not ready, or "ready". */
  readinessReason(): string;
  /** Channels this process currently wants to receive. */
  subscribedChannels(): ReadonlySet<string>;
  /** Closes every connection. */
  close(): Promise<void>;
}
