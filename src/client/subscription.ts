import { Backoff, type BackoffOptions } from './backoff';
import type { Clock } from './clock';
import {
  type PresenceEntry,
  presenceCountsFrame,
  presenceFrame,
  readEntries,
  readSubscribeResult,
  subscribeFrame,
  unsubscribeFrame,
  type Position,
} from './codec';
import { fromWireData, type DataFormat } from './data';
import { Emitter } from './emitter';
import { BroadcasterError, ClientErrorCode } from './errors';
import { ChannelPosition } from './position';

/** Where a subscription stands: waiting for the server's reply, live, or ended. */
export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed';

/** Why a subscribe was sent: the first one, after a reconnect, or to repair a gap / answer a resync frame. */
export type SubscribeReason = 'subscribe' | 'reconnect' | 'resync';

/** One publication as the application sees it; each offset at most once, in order. */
export interface Publication {
  /** The channel. */
  channel: string;
  /** The publication's offset, null on channels without history. */
  offset: number | null;
  /** The epoch the offset belongs to (null until known). */
  epoch: string | null;
  /** str data as a string; bin data as a Uint8Array (`raw`) or its msgpack value (`msgpack`). */
  data: unknown;
}

/** A successful subscribe reply. */
export interface SubscribedEvent {
  /** The channel. */
  channel: string;
  /** The position after the reply (null without history or when the server could not read it). */
  position: Position | null;
  /** True when the subscribe carried a position (a reconnect or resync). */
  wasRecovering: boolean;
  /** With wasRecovering: true when every missed publication was delivered; false: reload the state. */
  recovered: boolean;
  /** Why the subscribe was sent. */
  reason: SubscribeReason;
}

/** The subscription ended. */
export interface UnsubscribedEvent {
  /** The channel. */
  channel: string;
  /** `unsubscribe() called`, or the refusal's message. */
  reason: string;
  /** The error reply that ended it (a permanent refusal such as 108 forbidden), if any. */
  error?: BroadcasterError;
}

/** Events of a Subscription. */
export interface SubscriptionEvents {
  publication: Publication;
  subscribed: SubscribedEvent;
  unsubscribed: UnsubscribedEvent;
  error: BroadcasterError;
  /** A client became present (with the `joinLeave` option). */
  join: PresenceEntry;
  /** A client left, or its process died (with the `joinLeave` option). */
  leave: PresenceEntry;
}

/** The answer of subscription.presence(). */
export interface PresenceResult {
  /** This connection's own client id on the channel (null before the subscribe was answered). */
  client: string | null;
  /** Every client present. */
  entries: PresenceEntry[];
}

/** The answer of subscription.presenceCounts(). */
export interface PresenceCounts {
  /** Connections present. */
  clients: number;
  /** Distinct users among them (anonymous connections are not counted). */
  users: number;
}

/** Handlers passed to client.subscribe(); each is added as a listener of the event of that name. */
export type SubscriptionHandlers = { [K in keyof SubscriptionEvents]?: (event: SubscriptionEvents[K]) => void };

/** Options of client.subscribe(). */
export interface SubscriptionOptions {
  /** How bin data is decoded (default: the client's `format`, itself `raw` by default). */
  format?: DataFormat;
  /** A stored position to recover from on the first subscribe (e.g. kept across page loads). */
  since?: Position;
  /** Receive `join` and `leave` events (channels in the server's presenceNamespaces only; else error 111). */
  joinLeave?: boolean;
}

/** What a Subscription needs from its Client. */
export interface SubscriptionHost {
  /** True while a connection is open. */
  isConnected(): boolean;
  /** Sends a command built for a fresh request id; resolves with the reply's result. */
  request(build: (id: number) => Uint8Array): Promise<unknown>;
  /** Removes the subscription from the client (it will not be resubscribed). */
  forget(subscription: Subscription): void;
  clock: Clock;
  random: () => number;
  retry: Readonly<BackoffOptions>;
}

/**
 * One channel subscription: keeps the channel's offset and epoch, resubscribes from them after
 * a reconnect, repairs gaps, answers resync frames, retries temporary refusals with back-off,
 * and never delivers a duplicate (offset <= last).
 */
export class Subscription extends Emitter<SubscriptionEvents> {
  private current: SubscriptionState = 'subscribing';
  private readonly pos: ChannelPosition;
  private readonly backoff: Backoff;
  private inflight = false;
  private resyncWanted = false;
  private unsubscribeWanted = false;
  private everSubscribed = false;
  private retryTimer: unknown = null;
  private generation = 0;

  /** @internal Made by client.subscribe(). */
  constructor(
    /** The channel name. */
    readonly channel: string,
    private readonly host: SubscriptionHost,
    private readonly format: DataFormat,
    since: Position | null,
    private readonly joinLeave = false,
  ) {
    super();
    this.pos = new ChannelPosition(since);
    this.backoff = new Backoff(host.retry, host.random);
  }

  /** The subscription's state. */
  get state(): SubscriptionState {
    return this.current;
  }

  /** The position to recover from (offset of the last publication delivered, and its epoch), null until known. */
  get position(): Position | null {
    return this.pos.known;
  }

  /** Stops the subscription (the server is told when connected); emits `unsubscribed`. */
  unsubscribe(): void {
    if (this.current === 'unsubscribed') return;
    this.end({ channel: this.channel, reason: 'unsubscribe() called' });
    if (!this.host.isConnected()) return;
    if (this.inflight) this.unsubscribeWanted = true;
    else this.sendUnsubscribe();
  }

  /** Who is present on the channel now, across every server process (the channel must have presence: else error 111). */
  async presence(): Promise<PresenceResult> {
    const result = (await this.host.request((id) => presenceFrame(id, this.channel))) as { client?: unknown; entries?: unknown } | null;
    const entries = readEntries(result?.entries);
    if (entries === null) throw new BroadcasterError(ClientErrorCode.DecodeFailed, `malformed presence reply for ${this.channel}`);
    return { client: typeof result?.client === 'string' ? result.client : null, entries };
  }

  /** How many clients and distinct users are present (O(1) on the server, whatever the channel's size). */
  async presenceCounts(): Promise<PresenceCounts> {
    const result = (await this.host.request((id) => presenceCountsFrame(id, this.channel))) as Partial<PresenceCounts> | null;
    if (typeof result?.clients !== 'number' || typeof result.users !== 'number')
      throw new BroadcasterError(ClientErrorCode.DecodeFailed, `malformed presence counts reply for ${this.channel}`);
    return { clients: result.clients, users: result.users };
  }

  /** @internal A join/leave frame of this channel. */
  _presence(joins: PresenceEntry[], leaves: PresenceEntry[]): void {
    if (this.current === 'unsubscribed') return;
    for (const entry of leaves) this.emit('leave', entry);
    for (const entry of joins) this.emit('join', entry);
  }

  /** @internal The connection opened (or the subscription is new on an open one): subscribe. */
  _start(): void {
    if (this.current === 'unsubscribed' || this.inflight) return;
    this.cancelRetry();
    this.send(this.everSubscribed ? 'reconnect' : 'subscribe');
  }

  /** @internal The connection closed: everything in flight is void; wait for the next connection. */
  _connectionLost(): void {
    this.generation++;
    this.inflight = false;
    this.resyncWanted = false;
    this.unsubscribeWanted = false;
    this.cancelRetry();
    if (this.current === 'subscribed') this.current = 'subscribing';
  }

  /** @internal A publication frame of this channel. */
  _publication(offset: number | null, data: Uint8Array | string): void {
    if (this.current === 'unsubscribed') return;
    const verdict = this.pos.accept(offset);
    if (verdict === 'duplicate') return;
    if (verdict === 'gap') {
      this.resync();
      return;
    }
    let value: unknown;
    try {
      value = fromWireData(data, this.format);
    } catch (err) {
      this.emit(
        'error',
        new BroadcasterError(
          ClientErrorCode.DecodeFailed,
          `publication ${String(offset)} of ${this.channel} is not msgpack (format 'msgpack'): ${(err as Error).message}`,
        ),
      );
      return;
    }
    this.emit('publication', { channel: this.channel, offset, epoch: this.pos.epoch, data: value });
  }

  /** @internal A resync frame: publications were lost; replay from the position. */
  _resync(): void {
    if (this.current !== 'unsubscribed') this.resync();
  }

  private resync(): void {
    if (this.inflight) this.resyncWanted = true;
    else if (this.host.isConnected()) {
      this.cancelRetry();
      this.send('resync');
    }
  }

  private send(reason: SubscribeReason): void {
    if (!this.host.isConnected()) return;
    const since = this.pos.known;
    const generation = this.generation;
    this.inflight = true;
    this.host
      .request((id) => subscribeFrame(id, this.channel, since, this.joinLeave))
      .then(
        (result) => {
          if (generation === this.generation) this.onReply(result, since !== null, reason);
        },
        (err: BroadcasterError) => {
          if (generation === this.generation) this.onFailure(err, reason);
        },
      );
  }

  private onReply(result: unknown, wasRecovering: boolean, reason: SubscribeReason): void {
    this.inflight = false;
    if (this.afterUnsubscribe()) return;
    this.backoff.reset();
    const parsed = readSubscribeResult(result);
    this.pos.applyResult(parsed);
    this.current = 'subscribed';
    this.everSubscribed = true;
    const resyncWanted = this.resyncWanted;
    this.resyncWanted = false;
    this.emit('subscribed', { channel: this.channel, position: this.pos.known, wasRecovering, recovered: parsed?.recovered === true, reason });
    // A resync asked for during a subscribe without position still needs one.
    if (resyncWanted && !wasRecovering && this.current === 'subscribed') this.resync();
  }

  private onFailure(err: BroadcasterError, reason: SubscribeReason): void {
    this.inflight = false;
    if (this.afterUnsubscribe()) return;
    if (err.code === ClientErrorCode.NotConnected || err.code === ClientErrorCode.ConnectionLost) return;
    this.emit('error', err);
    if (this.current === 'unsubscribed') return;
    if (err.temporary) {
      // A failed resync leaves the live subscription standing: the resync is retried later.
      const delay = this.backoff.next();
      this.retryTimer = this.host.clock.setTimeout(() => {
        this.retryTimer = null;
        if (!this.inflight && this.current !== 'unsubscribed') this.send(reason);
      }, delay);
      return;
    }
    this.end({ channel: this.channel, reason: err.message, error: err });
  }

  /** After unsubscribe() during a subscribe: tells the server now. True when the subscription ended. */
  private afterUnsubscribe(): boolean {
    if (this.current !== 'unsubscribed') return false;
    if (this.unsubscribeWanted && this.host.isConnected()) this.sendUnsubscribe();
    this.unsubscribeWanted = false;
    return true;
  }

  private sendUnsubscribe(): void {
    this.host
      .request((id) => unsubscribeFrame(id, this.channel))
      .catch(() => {
        // Nothing to do: the server drops a closed connection's subscriptions itself.
      });
  }

  private end(event: UnsubscribedEvent): void {
    this.current = 'unsubscribed';
    this.cancelRetry();
    this.host.forget(this);
    this.emit('unsubscribed', event);
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) this.host.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
