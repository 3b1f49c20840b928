import { channelNameProblem } from '../protocol/channel-name';
import { Backoff } from './backoff';
import { LocalCloseCode, resolveOptions, type ClientOptions, type ResolvedOptions } from './client-options';
import type { Clock } from './clock';
import { decodeFrame, pingFrame, publishFrame, readSubscribeResult, refreshFrame, type ServerFrame } from './codec';
import { toWireData } from './data';
import { Emitter } from './emitter';
import { BroadcasterError, ClientErrorCode } from './errors';
import { Subscription, type SubscriptionHandlers, type SubscriptionHost, type SubscriptionOptions } from './subscription';
import { refreshDelay, tokenExpiry } from './token';
import { PendingRequests } from './requests';
import { Transport } from './transport';
import { attachBrowserHooks } from './browser-hooks';
import type { WebSocketConstructor } from './websocket-like';

export { LocalCloseCode, type ClientOptions };

/** Connection state: `connecting` covers attempts and the back-off waits between them. */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected';

/** Events of a Client. */
export interface ClientEvents {
  /** The connection state changed. */
  state: { state: ConnectionState };
  /** An attempt starts (`attempt` counts failures since the last successful connection). */
  connecting: { url: string; attempt: number };
  /** The handshake completed. */
  connected: { url: string };
  /** A connection or attempt ended; `reconnecting` tells whether another attempt follows. */
  disconnected: { code: number; reason: string; reconnecting: boolean };
  /** The token was refreshed on the open connection. */
  refreshed: { expiresAt: number | null };
  /** Something failed that is not a command's reply: a socket error, an error frame without id, a refresh refused. */
  error: BroadcasterError;
}

/** Where a publish landed: its offset and epoch, or nulls on a channel without history. */
export interface PublishResult {
  offset: number | null;
  epoch: string | null;
}

/**
 * A broadcaster connection: reconnects with back-off over one or several URLs, keeps every
 * subscription's position and recovers it, refreshes its token, and watches for dead sockets.
 */
export class Client extends Emitter<ClientEvents> {
  private readonly urls: readonly string[];
  private readonly WebSocketClass: WebSocketConstructor;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly host: SubscriptionHost;
  private readonly settings: Readonly<ResolvedOptions>;
  private current: ConnectionState = 'disconnected';
  private transport: Transport | null = null;
  private open = false;
  private wanted = false;
  private offline = false;
  private generation = 0;
  private urlIndex = 0;
  private lastReceived = 0;
  private reconnectTimer: unknown = null;
  private connectTimer: unknown = null;
  private pingTimer: unknown = null;
  private refreshTimer: unknown = null;
  private detachHooks: (() => void) | null = null;
  private readonly requests: PendingRequests;
  private readonly subscriptions = new Map<string, Subscription>();

  /** `urls`: one `ws(s)://host/ws` URL or several, tried in turn. Call connect() to start. */
  constructor(
    urls: string | readonly string[],
    private readonly options: ClientOptions = {},
  ) {
    super();
    const settings = resolveOptions(urls, options);
    this.settings = settings;
    this.urls = settings.urls;
    this.WebSocketClass = settings.WebSocket;
    this.clock = settings.clock;
    this.requests = new PendingRequests(this.clock);
    this.backoff = new Backoff(settings.reconnect, settings.random);
    this.host = {
      isConnected: () => this.open,
      request: (build) => this.request(build, this.settings.requestTimeout),
      forget: (sub) => {
        if (this.subscriptions.get(sub.channel) === sub) this.subscriptions.delete(sub.channel);
      },
      clock: this.clock,
      random: settings.random,
      retry: settings.retry,
    };
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.current;
  }

  /** Starts connecting (and reconnecting until close()); does nothing when already started. */
  connect(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.detachHooks = attachBrowserHooks({
      offline: () => this.goOffline(),
      online: () => this.goOnline(),
      visible: () => this.onVisible(),
    });
    this.backoff.reset();
    void this.attempt();
  }

  /** Closes the connection and stops reconnecting. Subscriptions stay registered and resume on connect(). */
  close(): void {
    this.wanted = false;
    this.detachHooks?.();
    this.detachHooks = null;
    this.clearTimer('reconnectTimer');
    this.generation++;
    this.transport?.close(LocalCloseCode.Normal, 'client closed');
    this.setState('disconnected');
  }

  /** Subscribes to `channel` (or returns its existing subscription, adding the handlers). */
  subscribe(channel: string, handlers: SubscriptionHandlers = {}, options: SubscriptionOptions = {}): Subscription {
    const problem = channelNameProblem(channel);
    if (problem !== null) throw new TypeError(`subscribe(${JSON.stringify(channel)}): ${problem}`);
    let sub = this.subscriptions.get(channel);
    const isNew = sub === undefined;
    if (sub === undefined) {
      sub = new Subscription(channel, this.host, options.format ?? this.options.format ?? 'raw', options.since ?? null, options.joinLeave === true);
      this.subscriptions.set(channel, sub);
    }
    for (const [event, handler] of Object.entries(handlers)) {
      if (typeof handler === 'function') sub.on(event as keyof SubscriptionHandlers, handler as never);
    }
    if (isNew && this.open) sub._start();
    return sub;
  }

  /** The subscription of `channel`, if any. */
  getSubscription(channel: string): Subscription | undefined {
    return this.subscriptions.get(channel);
  }

  /** Unsubscribes from `channel` (no-op when not subscribed). */
  unsubscribe(channel: string): void {
    this.subscriptions.get(channel)?.unsubscribe();
  }

  /**
   * Publishes `data` (string → msgpack str; bytes → bin; other values msgpack-encoded as bin).
   * Resolves with the publication's position; rejects with a BroadcasterError (e.g. code 108
   * when client publishing is not allowed for the channel, 1 when not connected).
   */
  async publish(channel: string, data: unknown): Promise<PublishResult> {
    const problem = channelNameProblem(channel);
    if (problem !== null) throw new BroadcasterError(102, `publish(${JSON.stringify(channel)}): ${problem}`);
    const wire = toWireData(data);
    const result = readSubscribeResult(await this.request((id) => publishFrame(id, channel, wire), this.settings.requestTimeout));
    return result === null ? { offset: null, epoch: null } : { offset: result.offset, epoch: result.epoch };
  }

  /** Sends a ping command; resolves with the round trip in ms. */
  async ping(): Promise<number> {
    const start = this.clock.now();
    await this.request(pingFrame, this.settings.pingTimeout);
    return this.clock.now() - start;
  }

  private setState(state: ConnectionState): void {
    if (this.current === state) return;
    this.current = state;
    this.emit('state', { state });
  }

  private clearTimer(name: 'reconnectTimer' | 'connectTimer' | 'pingTimer' | 'refreshTimer'): void {
    if (this[name] !== null) this.clock.clearTimeout(this[name]);
    this[name] = null;
  }

  private async token(): Promise<string | null> {
    const source = this.options.token;
    if (source === undefined) return null;
    const token = typeof source === 'string' ? source : await source();
    if (typeof token !== 'string' || token === '') throw new Error('the token function returned no string');
    return token;
  }

  private async attempt(): Promise<void> {
    this.reconnectTimer = null;
    const generation = ++this.generation;
    const url = this.urls[this.urlIndex % this.urls.length]!;
    this.setState('connecting');
    this.emit('connecting', { url, attempt: this.backoff.attempts });
    let token: string | null;
    try {
      token = await this.token();
    } catch (err) {
      if (generation !== this.generation) return;
      this.emit('error', new BroadcasterError(ClientErrorCode.TokenUnavailable, `could not get a token: ${(err as Error).message}`));
      this.scheduleReconnect();
      return;
    }
    if (generation !== this.generation || !this.wanted) return;
    let transport: Transport;
    try {
      transport = new Transport(this.WebSocketClass, url, token, {
        onOpen: () => this.handleOpen(transport, url, token),
        onMessage: (bytes) => this.handleMessage(bytes),
        onClose: (code, reason) => this.handleClose(transport, code, reason),
        onError: (message) => this.emit('error', new BroadcasterError(ClientErrorCode.ConnectionLost, message)),
      });
    } catch (err) {
      this.emit('error', new BroadcasterError(ClientErrorCode.ConnectionLost, `could not open ${url}: ${(err as Error).message}`));
      this.urlIndex++;
      this.scheduleReconnect();
      return;
    }
    this.transport = transport;
    this.connectTimer = this.clock.setTimeout(() => {
      this.connectTimer = null;
      transport.close(LocalCloseCode.ConnectTimeout, `no handshake within ${this.settings.connectTimeout} ms`);
    }, this.settings.connectTimeout);
  }

  private scheduleReconnect(): void {
    if (!this.wanted || this.offline) {
      this.setState('disconnected');
      return;
    }
    this.setState('connecting');
    this.clearTimer('reconnectTimer');
    this.reconnectTimer = this.clock.setTimeout(() => void this.attempt(), this.backoff.next());
  }

  private handleOpen(transport: Transport, url: string, token: string | null): void {
    if (this.transport !== transport) return;
    this.clearTimer('connectTimer');
    this.open = true;
    this.backoff.reset();
    this.lastReceived = this.clock.now();
    this.setState('connected');
    for (const sub of [...this.subscriptions.values()]) sub._start();
    this.schedulePing();
    this.scheduleRefresh(token === null ? null : tokenExpiry(token));
    this.emit('connected', { url });
  }

  private handleMessage(bytes: Uint8Array): void {
    this.lastReceived = this.clock.now();
    let frame: ServerFrame;
    try {
      frame = decodeFrame(bytes);
    } catch (err) {
      this.emit('error', new BroadcasterError(ClientErrorCode.DecodeFailed, (err as Error).message));
      return;
    }
    switch (frame.type) {
      case 'publication':
        this.subscriptions.get(frame.channel)?._publication(frame.offset, frame.data);
        return;
      case 'reply':
        this.requests.resolve(frame.id, frame.result);
        return;
      case 'error': {
        const err = new BroadcasterError(frame.code, frame.message);
        if (frame.id === null || !this.requests.reject(frame.id, err)) this.emit('error', err);
        return;
      }
      case 'resync':
        this.subscriptions.get(frame.channel)?._resync();
        return;
      case 'presence':
        this.subscriptions.get(frame.channel)?._presence(frame.joins, frame.leaves);
        return;
      case 'subscribed':
        // Only sent for URL subscriptions, which this client does not use.
        return;
    }
  }

  private handleClose(transport: Transport, code: number, reason: string): void {
    if (this.transport !== transport) return;
    this.transport = null;
    this.open = false;
    for (const name of ['connectTimer', 'pingTimer', 'refreshTimer'] as const) this.clearTimer(name);
    const lost = this.wanted
      ? new BroadcasterError(ClientErrorCode.ConnectionLost, `connection closed (${code} ${reason}) before the reply`)
      : new BroadcasterError(ClientErrorCode.Closed, 'close() was called before the reply');
    this.requests.rejectAll(lost);
    for (const sub of this.subscriptions.values()) sub._connectionLost();
    const reconnecting = this.wanted && !this.offline;
    this.emit('disconnected', { code, reason, reconnecting });
    if (this.wanted) {
      this.urlIndex++;
      this.scheduleReconnect();
    }
  }

  private request(build: (id: number) => Uint8Array, timeout: number): Promise<unknown> {
    const transport = this.transport;
    if (transport === null || !this.open)
      return Promise.reject(new BroadcasterError(ClientErrorCode.NotConnected, 'not connected: call connect() and wait for the connected event'));
    return this.requests.start(build, (frame) => transport.send(frame), timeout);
  }

  private schedulePing(): void {
    this.clearTimer('pingTimer');
    if (this.settings.pingInterval > 0) this.pingTimer = this.clock.setTimeout(() => this.checkAlive(), this.settings.pingInterval);
  }

  /** Pings; drops the connection when neither the reply nor any other frame came within pingTimeout. */
  private checkAlive(): void {
    this.pingTimer = null;
    const transport = this.transport;
    const sentAt = this.clock.now();
    this.request(pingFrame, this.settings.pingTimeout).then(
      () => {
        if (this.transport === transport) this.schedulePing();
      },
      (err: BroadcasterError) => {
        if (this.transport !== transport || transport === null) return;
        if (err.code === ClientErrorCode.Timeout && this.lastReceived <= sentAt) {
          transport.close(LocalCloseCode.PingTimeout, `no reply to a ping within ${this.settings.pingTimeout} ms`);
        } else this.schedulePing();
      },
    );
  }

  private scheduleRefresh(expiresAt: number | null): void {
    this.clearTimer('refreshTimer');
    if (typeof this.options.token !== 'function' || expiresAt === null) return;
    const delay = refreshDelay(expiresAt, this.clock.now(), this.settings.refreshMargin);
    this.refreshTimer = this.clock.setTimeout(() => void this.refresh(expiresAt), delay);
  }

  private async refresh(oldExpiry: number): Promise<void> {
    this.refreshTimer = null;
    const transport = this.transport;
    try {
      const token = (await this.token())!;
      if (this.transport !== transport) return;
      const result = await this.request((id) => refreshFrame(id, token), this.settings.requestTimeout);
      if (this.transport !== transport) return;
      const seconds = (result as { expiresAt?: unknown } | null)?.expiresAt;
      const expiresAt = typeof seconds === 'number' ? seconds * 1000 : tokenExpiry(token);
      this.emit('refreshed', { expiresAt });
      this.scheduleRefresh(expiresAt);
    } catch (err) {
      if (this.transport !== transport) return;
      const failure =
        err instanceof BroadcasterError ? err : new BroadcasterError(ClientErrorCode.TokenUnavailable, `could not get a token: ${(err as Error).message}`);
      this.emit('error', new BroadcasterError(failure.code, `token refresh failed: ${failure.message}`));
      // Try again while the old token lasts; past it the server closes with 4001 and we reconnect.
      const remaining = oldExpiry - this.clock.now();
      if (remaining > 1000) this.refreshTimer = this.clock.setTimeout(() => void this.refresh(oldExpiry), Math.max(1000, remaining / 2));
    }
  }

  private goOffline(): void {
    this.offline = true;
    this.clearTimer('reconnectTimer');
    if (this.transport !== null) this.transport.close(LocalCloseCode.Offline, 'browser offline');
    else this.setState('disconnected');
  }

  private goOnline(): void {
    const wasOffline = this.offline;
    this.offline = false;
    if (!this.wanted || this.transport !== null) return;
    if (wasOffline || this.reconnectTimer !== null) {
      this.clearTimer('reconnectTimer');
      this.backoff.reset();
      void this.attempt();
    }
  }

  private onVisible(): void {
    if (!this.wanted) return;
    if (this.open) {
      // Timers may have been throttled while hidden: check the connection now.
      this.clearTimer('pingTimer');
      this.checkAlive();
    } else if (this.transport === null && this.reconnectTimer !== null) {
      this.clearTimer('reconnectTimer');
      void this.attempt();
    }
  }
}
