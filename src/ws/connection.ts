import type { Broker } from '../broker/broker';
import type { HistoryPolicies } from '../config/history-policy';
import type { SubscriptionHub } from '../hub/channel-hub';
import { type ClientCommand, decodeCommand, encodeError, encodeReply, encodeSubscribed, type RecoveryPosition } from '../protocol/commands';
import { CloseCode, ErrorCode, type SentErrorCode } from '../protocol/opcodes';
import { ProtocolError } from '../protocol/protocol-error';
import type { Access } from '../security/access';
import type { Bucket } from '../security/rate-limiter';
import type { SecurityPolicy } from '../security/security-policy';
import type { ServerStats } from '../stats';
import { cutOffAfterGrace, SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON } from './slow-consumer-close';
import type { WebSocket } from '../uws/uws';
import type { ConnectRequest } from './connect-request';
import type { Logger } from '../log/logger';
import type { PresenceService } from '../presence/presence-service';
import { SessionPresence } from './session-presence';
import { type CatchUpSocket, type SubscribeResult, subscribeWithPosition } from './recovery';
import { type Expiring, TOKEN_EXPIRED_REASON, type TokenExpiry } from './token-expiry';

/** The message of reply 500: the details are in the server log, not sent to the client. */
export const INTERNAL_ERROR_MESSAGE = 'the server failed unexpectedly while running this command (its log has the error); the connection stays open: retry';

/** The uWS user data of a socket: its Connection (uWS copies user data, so it holds a reference). */
export interface ConnectionRef {
  readonly connection: Connection;
}

/** The socket calls a Connection makes; a uWS WebSocket has them, unit tests pass a fake. */
export type Socket = Pick<WebSocket<ConnectionRef>, 'send' | 'subscribe' | 'unsubscribe' | 'isSubscribed' | 'cork' | 'getBufferedAmount' | 'end' | 'close'>;

/** What every connection of a server shares: limits, counters and the services it calls. */
export interface SessionDeps {
  /** Most channels one connection may hold (--max-subscriptions-per-connection). */
  readonly maxSubscriptions: number;
  /** Bytes a socket may have queued (--max-backpressure). */
  readonly maxBackpressure: number;
  /** Largest publication data a client may send (--max-message-size). */
  readonly maxMessageSize: number;
  /** Process counters. */
  readonly stats: ServerStats;
  /** The process logger (unexpected failures of commands are logged at error). */
  readonly logger: Logger;
  /** Channel holds, positions and recovery recordings. */
  readonly hub: SubscriptionHub;
  /** Publishing and history reads. */
  readonly broker: Pick<Broker, 'publish' | 'history'>;
  /** History size of each channel. */
  readonly policies: HistoryPolicies;
  /** Rate limits, token checks and per-address connection counts. */
  readonly security: Pick<SecurityPolicy, 'rate' | 'verifier' | 'accessFor' | 'limits'>;
  /** Closes connections whose token expired. */
  readonly expiry: TokenExpiry;
  /** Every open connection of the process (shutdown closes them). */
  readonly connections: Set<Connection>;
  /** Presence of the channels in --presence-namespaces, or null when there are none. */
  readonly presence: PresenceService | null;
}

/** The settled result of a command answered synchronously (the commands' shared return value). */
export const DONE: Promise<void> = Promise.resolve();

/**
 * One client's session: its subscriptions and the subscribes still pending, its counters, its
 * token (expiry and refresh), its rate-limit bucket and its cleanup on close. Created by the
 * handshake once every check passed; the socket is attached on open. Kept small: one per socket.
 */
export class Connection implements CatchUpSocket, Expiring {
  /** Set once the socket closed; uWS forbids touching a closed socket. */
  closed = false;
  /** Resumes a recovery waiting for the send buffer to drain, or null. */
  drainWaiter: (() => void) | null = null;
  /** Second whose expiry bucket holds this connection, or 0 (owned by TokenExpiry). */
  expirySecond = 0;
  private socket: Socket | null = null;
  /** Channels whose subscribe has not been answered yet, or null. */
  private pending: Set<string> | null = null;
  /** Number of channels subscribed. */
  private subscriptions = 0;
  /** Inbound rate-limit state, created by the first command (most subscribers never send one). */
  private bucket: Bucket | null = null;
  /** Presence state, made by the first presence channel. */
  private presenceState: SessionPresence | null = null;

  constructor(
    private readonly deps: SessionDeps,
    /** Client IP address (for the per-address connection limit). */
    readonly address: string,
    /** What this connection may do (token claims and server patterns); replaced by a refresh. */
    public access: Access,
    /** What the URL asked for, until `open` has subscribed it; then null. The handshake holds its channels. */
    private connect: ConnectRequest | null,
  ) {}

  /** When the token expires (ms since 1970), or null. */
  get expiresAt(): number | null {
    return this.access.expiresAt;
  }

  /** This connection's presence client id, or null before it was present on any channel. */
  get presenceClient(): string | null {
    return this.presenceState?.client ?? null;
  }

  /** Number of channels this connection holds (subscribed or being subscribed). */
  get subscriptionCount(): number {
    return this.subscriptions;
  }

  /** True while a subscribe of `channel` waits for its answer. */
  isPending(channel: string): boolean {
    return this.pending?.has(channel) ?? false;
  }

  /** The socket opened: starts the session and subscribes what the URL asked for. */
  open(socket: Socket): void {
    this.socket = socket;
    this.deps.connections.add(this);
    this.deps.expiry.arm(this);
    this.deps.stats.connectionsOpened++;
    const request = this.connect;
    this.connect = null;
    if (request === null) return;
    this.count(request.channels.length);
    const plain: string[] = [];
    for (const channel of request.channels) {
      void this.present(channel, false);
      const since = request.since.get(channel) ?? null;
      if (since === null && !request.positions) {
        socket.subscribe(channel);
        plain.push(channel);
        continue;
      }
      this.join(channel, since, null, false).then(
        (result) => this.sendFrame(encodeSubscribed(channel, result)),
        (err: Error) => {
          // Deliver live publications anyway; the offset gap tells the client to resubscribe with its position.
          this.joinTopic(channel);
          this.replyError(null, ErrorCode.BrokerUnavailable, `${channel}: history could not be read: ${err.message}`);
        },
      );
    }
    this.deps.hub.release(plain);
  }

  /**
   * Counts, rate-limits and decodes one command frame; answers what is refused (rate limit,
   * malformed frame) and returns the command to run, or null. There is no shutdown check:
   * shutdown closes the socket with 1001 first, and uWS reads no frame from a closing socket.
   * Anything but a ProtocolError is thrown on (receiveCommand answers it with 500).
   */
  readCommand(message: ArrayBuffer): ClientCommand | null {
    const { stats, security } = this.deps;
    stats.commandsIn++;
    stats.bytesIn += message.byteLength;
    const now = Date.now();
    if (!security.rate.take((this.bucket ??= security.rate.newBucket(now)), message.byteLength, now)) {
      stats.rateLimited++;
      this.replyError(null, ErrorCode.RateLimited, 'too many commands or bytes per second: command dropped; slow down');
      return null;
    }
    let cmd: ClientCommand;
    try {
      cmd = decodeCommand(new Uint8Array(message), this.deps.maxMessageSize);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.replyError(err.requestId, err.code, err.message);
      return null;
    }
    return cmd;
  }

  /**
   * The subscribe command: checks, then subscribes (from a position when `since` is given) and
   * replies. Settles once the reply is sent; rejects only on an unexpected failure.
   */
  subscribe(id: number, channel: string, since: RecoveryPosition | null, joinLeave = false): Promise<void> {
    if (!this.access.canSubscribe(channel)) {
      this.replyError(id, ErrorCode.Forbidden, `not allowed to subscribe to ${channel}`);
      return DONE;
    }
    if (joinLeave && this.deps.presence?.covers(channel) !== true) {
      this.replyError(id, ErrorCode.PresenceDisabled, `${channel} is outside --presence-namespaces: it has no join and leave events`);
      return DONE;
    }
    if (this.isPending(channel)) {
      this.replyError(id, ErrorCode.SubscriptionInProgress, `a subscribe of ${channel} is still in progress on this connection`);
      return DONE;
    }
    const already = this.socket?.isSubscribed(channel) === true;
    if (!already && this.subscriptions >= this.deps.maxSubscriptions) {
      this.replyError(id, ErrorCode.TooManySubscriptions, `already subscribed to ${this.subscriptions} channels, the limit is ${this.deps.maxSubscriptions}`);
      return DONE;
    }
    // Taken before counting: a hold that throws leaves nothing counted.
    const held = this.deps.hub.hold([channel]);
    if (!already) this.count(1);
    // The reply follows the broker's confirmation: a publication after the reply reaches us.
    // Subscribing again with a position while subscribed is a resync: leave the topic, recover, rejoin.
    return this.join(channel, since, held, already && since !== null).then(
      (result) => {
        if (this.closed) return;
        return this.present(channel, joinLeave).then(() => this.reply(id, result));
      },
      (err: Error) => {
        if (!this.closed) {
          // A failed resync keeps the live subscription it started from; a new one is undone.
          if (already) this.joinTopic(channel);
          else this.count(-1);
        }
        this.replyError(id, ErrorCode.BrokerUnavailable, `history could not be read: ${err.message}`);
      },
    );
  }

  /** The unsubscribe command. */
  unsubscribe(id: number, channel: string): void {
    if (this.isPending(channel)) {
      this.replyError(id, ErrorCode.SubscriptionInProgress, `a subscribe of ${channel} is still in progress on this connection`);
      return;
    }
    if (!this.closed && this.socket?.unsubscribe(channel) === true) {
      this.count(-1);
      this.presenceState?.absent(channel, this.socket);
    }
    this.reply(id);
  }

  /** Replaces the token's access after a refresh and re-arms the expiry. */
  setAccess(access: Access): void {
    this.access = access;
    this.deps.expiry.arm(this);
  }

  /** Sends a success reply `[1, id, result]`. */
  reply(id: number, result: unknown = null): void {
    this.sendFrame(encodeReply(id, result));
  }

  /** Sends an error reply `[2, id, code, message]` and counts it. */
  replyError(id: number | null, code: SentErrorCode, message: string): void {
    this.deps.stats.commandErrors++;
    this.sendFrame(encodeError(id, code, message));
  }

  /**
   * A command failed unexpectedly (a throw or a rejected promise outside its documented
   * failures): logs it at error with the command, counts it and answers `[2, id, 500, message]`.
   * The connection stays open. `op` and `channel` are null when the frame could not be read.
   */
  internalError(id: number | null, op: string | null, channel: string | null, err: unknown): void {
    this.deps.stats.internalErrors++;
    this.deps.logger.error({ err, op, channel, id }, 'a command failed unexpectedly: answered with error 500, the connection stays open');
    try {
      this.replyError(id, ErrorCode.Internal, INTERNAL_ERROR_MESSAGE);
    } catch (replyErr) {
      this.deps.logger.error({ err: replyErr, op, channel, id }, 'the error 500 reply could not be sent');
    }
  }

  /** Sends a frame unless the socket closed meanwhile. */
  sendFrame(frame: Buffer): void {
    if (!this.closed) this.socket?.send(frame, true, false);
  }

  /** Joins the channel's uWS topic unless the socket closed. */
  joinTopic(channel: string): void {
    if (!this.closed) this.socket?.subscribe(channel);
  }

  /** Bytes queued in user space for this socket. */
  bufferedAmount(): number {
    return this.closed || this.socket === null ? 0 : this.socket.getBufferedAmount();
  }

  /** Runs `fn` with the socket corked. */
  cork(fn: () => void): void {
    if (this.closed || this.socket === null) fn();
    else this.socket.cork(fn);
  }

  /**
   * Closes the socket as a slow consumer with 4002 (a catch-up that cannot keep up); a socket
   * still open SLOW_CONSUMER_GRACE_MS later (its close frame never left) is cut off.
   */
  drop(): void {
    if (this.closed) return;
    this.end(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON);
    cutOffAfterGrace(
      () => this.closed,
      () => this.socket?.close(),
    );
  }

  /** Closes the socket with a close frame (shutdown). */
  end(code: number, reason: string): void {
    if (!this.closed) this.socket?.end(code, reason);
  }

  /** The token expired: closes with 4001. */
  expire(): void {
    this.end(CloseCode.TokenExpired, TOKEN_EXPIRED_REASON);
  }

  /** The send buffer drained: resumes a waiting catch-up. */
  drained(): void {
    this.drainWaiter?.();
  }

  /** The socket closed: releases everything the session held. */
  closedWith(code: number): void {
    const { stats } = this.deps;
    if (code === 1006) stats.abnormalCloses++;
    this.drainWaiter?.();
    this.deps.expiry.cancel(this);
    this.deps.security.limits.release(this.address);
    this.closed = true;
    this.socket = null;
    this.deps.connections.delete(this);
    this.presenceState?.closed();
    stats.connectionsClosed++;
    stats.subscriptions -= this.subscriptions;
  }

  /**
   * The one subscribe-with-recovery path of URL and command subscriptions: marks the channel
   * pending, waits for `held` (the broker receives the channel; null: the handshake held it),
   * optionally leaves the topic first (a resync), then recovers and joins. Settles once the
   * channel is no longer pending.
   */
  private join(channel: string, since: RecoveryPosition | null, held: Promise<void> | null, leaveFirst: boolean): Promise<SubscribeResult | null> {
    (this.pending ??= new Set()).add(channel);
    const run = (): Promise<SubscribeResult | null> => {
      if (leaveFirst && !this.closed) this.socket?.unsubscribe(channel);
      return subscribeWithPosition(this.deps, this, channel, since);
    };
    // Without a hold to wait for, recovery starts in this turn: its recording misses nothing.
    const done = held === null ? run() : held.then(run);
    return done.finally(() => this.pending?.delete(channel));
  }

  /** Marks this connection present on `channel` when it has presence; resolves once join/leave events (when asked for) flow. */
  private present(channel: string, listen: boolean): Promise<void> {
    const service = this.deps.presence;
    if (service === null || !service.covers(channel)) return DONE;
    this.presenceState ??= new SessionPresence(service);
    return this.presenceState.present(channel, this.access.subject, this.access.info, listen, this.socket);
  }

  /** The one place a connection's subscription count changes (and the process total with it). */
  private count(delta: number): void {
    this.subscriptions += delta;
    this.deps.stats.subscriptions += delta;
  }
}
