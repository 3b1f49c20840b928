import type { Broker, PublishOptions, PublishResult } from './broker/broker';
import { createBroker } from './broker/create-broker';
import { HistoryPolicies } from './config/history-policy';
import type { Options } from './config/options';
import { defaultOptions } from './config/options';
import { registerHttpRoutes } from './http/routes';
import { ChannelHub } from './hub/channel-hub';
import { createLogger, type Logger } from './log/logger';
import { idempotencyKeyProblem } from './protocol/idempotency-key';
import { CloseCode } from './protocol/opcodes';
import { SecurityPolicy } from './security/security-policy';
import { findInsecureSettings, type InsecureSetting } from './security/insecure-settings';
import { createStats, type ServerStats } from './stats';
import { type TemplatedApp, type us_listen_socket, uws, uwsBuild } from './uws/uws';
import type { Connection, ConnectionRef } from './ws/connection';
import type { WsDeps } from './ws/handshake';
import { TokenExpiry } from './ws/token-expiry';
import { createPresenceStore } from './presence/create-presence-store';
import type { PresenceStore } from './presence/presence-store';
import { PresenceService } from './presence/presence-service';
import { startDemo, type DemoHandle } from './demo/demo-server';
import { createWsBehavior, WS_PATH } from './ws/ws-behavior';

/** What the server builds for a broker it is given: its history policies, logger and counters. */
export interface BrokerContext {
  /** The frozen options of the server. */
  readonly options: Readonly<Options>;
  /** History size and ttl of each channel: the server's one instance, also used by the HTTP API and recovery. */
  readonly policies: HistoryPolicies;
  /** The process logger. */
  readonly logger: Logger;
  /** Process counters (the Redis broker counts its probe failures there). */
  readonly stats: ServerStats;
}

/** What an embedding application may hand the server instead of the defaults. */
export interface ServerDeps {
  /** The logger (default: pino at `logLevel`). */
  logger?: Logger;
  /**
   * The broker, or a function building it from the server's policies, logger and counters
   * (default: the one `redisUrl` selects). The server starts and closes it.
   */
  broker?: Broker | ((context: BrokerContext) => Broker);
  /** The presence store (default: Redis with `redisUrl`, else memory); used only with `presenceNamespaces`. The server closes it. */
  presence?: PresenceStore;
}

/** Reason sent with the going-away close frame on shutdown. */
export const SHUTDOWN_REASON = 'server shutting down, reconnect';

/** The listen call failed; the message names the option to change. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

/**
 * One broadcaster process: the uWS app (WebSocket /ws and HTTP API) plus its broker.
 * `start()` listens, `stop()` closes clients with 1001 and disconnects the broker.
 */
export class BroadcasterServer {
  /** The frozen options this server runs with. */
  readonly options: Readonly<Options>;
  /** The process logger. */
  readonly logger: Logger;
  /** The broker between processes. */
  readonly broker: Broker;
  /** Process counters, read by the metrics exporter. */
  readonly stats: ServerStats = createStats();
  /** Authentication, permissions and limits. */
  readonly security: SecurityPolicy;
  /** Insecure settings in force (warned about at start, exported as broadcaster_insecure_settings). */
  readonly insecureSettings: readonly InsecureSetting[];
  /** History size and ttl of each channel, shared by the broker, the HTTP API and recovery. */
  readonly policies: HistoryPolicies;
  /** Presence of the channels in presenceNamespaces, or null without any. */
  readonly presence: PresenceService | null;
  private demo: DemoHandle | null = null;
  private readonly expiry = new TokenExpiry();
  private readonly app: TemplatedApp;
  private readonly hub: ChannelHub;
  private readonly connectionSet = new Set<Connection>();
  private listenSocket: us_listen_socket | null = null;
  private boundPort = 0;
  private shuttingDown = false;
  private stopping: Promise<void> | null = null;

  /** `options` are completed with the defaults and frozen; `deps` may supply the logger and the broker. */
  constructor(options: Partial<Options> = {}, given: ServerDeps = {}) {
    this.options = Object.freeze({ ...defaultOptions(), ...options });
    this.logger = given.logger ?? createLogger(this.options.logLevel);
    this.policies = new HistoryPolicies(this.options);
    const context: BrokerContext = { options: this.options, policies: this.policies, logger: this.logger, stats: this.stats };
    this.broker =
      given.broker === undefined
        ? createBroker(this.options, this.policies, this.logger, this.stats)
        : typeof given.broker === 'function'
          ? given.broker(context)
          : given.broker;
    this.security = new SecurityPolicy(this.options);
    this.insecureSettings = findInsecureSettings(this.options);
    this.app =
      this.options.tlsCert !== null && this.options.tlsKey !== null
        ? uws.SSLApp({ cert_file_name: this.options.tlsCert, key_file_name: this.options.tlsKey })
        : uws.App();
    this.presence =
      this.options.presenceNamespaces.length === 0
        ? null
        : new PresenceService(
            given.presence ?? createPresenceStore(this.options),
            this.options.presenceNamespaces,
            this.app,
            this.logger,
            this.options.presenceTtl * 1000,
          );
    const hub = new ChannelHub(this.app, this.broker, this.stats, this.logger, this.options.compression !== 'off', this.options.fanoutWindowMs);
    this.hub = hub;
    const ws: WsDeps = {
      options: this.options,
      maxSubscriptions: this.options.maxSubscriptionsPerConnection,
      maxBackpressure: this.options.maxBackpressure,
      maxMessageSize: this.options.maxMessageSize,
      stats: this.stats,
      logger: this.logger,
      hub,
      broker: this.broker,
      policies: this.policies,
      security: this.security,
      expiry: this.expiry,
      connections: this.connectionSet,
      isShuttingDown: () => this.shuttingDown,
      presence: this.presence,
    };
    this.app.ws<ConnectionRef>(
      WS_PATH,
      createWsBehavior(ws, (channel, newCount, oldCount) => hub.onTopicCount(channel, newCount, oldCount)),
    );
    registerHttpRoutes(this.app, {
      options: this.options,
      policies: this.policies,
      broker: this.broker,
      logger: this.logger,
      stats: this.stats,
      apiAccess: this.security.apiAccess,
      readiness: this,
      presence: this.presence,
      demo: this.options.demo,
    });
  }

  /** The bound TCP port (useful with port 0), or 0 before start. */
  get port(): number {
    return this.boundPort;
  }

  /** Number of open WebSocket connections. */
  get connections(): number {
    return this.connectionSet.size;
  }

  /** Bytes queued in user space for all connections right now (read at metrics scrape time). */
  bufferedBytes(): number {
    let total = 0;
    for (const conn of this.connectionSet) total += conn.bufferedAmount();
    return total;
  }

  /** Why the process should not receive traffic, or null when it is ready. */
  notReadyReason(): string | null {
    if (this.shuttingDown) return 'shutting down';
    if (this.listenSocket === null) return 'not listening';
    return this.broker.isReady() ? null : this.broker.readinessReason();
  }

  /** Connects the broker (without waiting for it) and listens; resolves with the bound port. */
  async start(): Promise<number> {
    const build = uwsBuild;
    this.logger.info(
      { uwsBuild: build.id, uwsVersion: build.version, uwsBinary: build.binary, node: process.version, nodeAbi: build.nodeAbi, glibc: build.glibc },
      'uWebSockets.js native build loaded',
    );
    await this.broker.start();
    this.presence?.start();
    const { host, port } = this.options;
    const socket = await new Promise<us_listen_socket | false>((resolve) => this.app.listen(host, port, resolve));
    if (socket === false) {
      throw new ListenError(
        `cannot listen on ${host}:${port}: the address is in use by a process without SO_REUSEPORT or not available; choose another --port / --host`,
      );
    }
    this.listenSocket = socket;
    this.boundPort = uws.us_socket_local_port(socket as never);
    this.logger.info({ host, port: this.boundPort, broker: this.broker.kind, path: WS_PATH, tls: this.options.tlsCert !== null }, 'listening');
    for (const setting of this.insecureSettings) this.logger.warn({ setting: setting.name }, setting.message);
    if (this.options.demo) this.demo = startDemo(this);
    return this.boundPort;
  }

  /**
   * Publishes `data` on `channel` through the broker, as the HTTP API does; resolves with its
   * position (null without history). With `options.idempotencyKey` a repeat within
   * `idempotencyTtl` publishes nothing and answers the first result (`repeated: true`); a key
   * breaking the syntax (1-128 characters from A-Z a-z 0-9 _ . : @ = + / -) rejects with a TypeError.
   */
  publish(channel: string, data: Uint8Array | string, options?: PublishOptions): Promise<PublishResult> {
    const key = options?.idempotencyKey;
    const problem = key === undefined ? null : idempotencyKeyProblem(key);
    if (problem !== null) return Promise.reject(new TypeError(`invalid idempotency key ${JSON.stringify(key)}: ${problem}`));
    return this.broker.publish(channel, data, options);
  }

  /** Stops accepting, closes every client with 1001 (reconnect), closes the broker. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.listenSocket !== null) {
      uws.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
    }
    const count = this.connectionSet.size;
    this.hub.drain();
    for (const conn of [...this.connectionSet]) conn.end(CloseCode.GoingAway, SHUTDOWN_REASON);
    this.logger.info({ clients: count }, 'shutdown: closed clients');
    this.expiry.stop();
    this.demo?.stop();
    // Closed sockets left their presence channels; those leaves are written before the store closes.
    await new Promise((resolve) => setImmediate(resolve));
    await this.presence?.stop();
    await this.broker.close();
  }
}
