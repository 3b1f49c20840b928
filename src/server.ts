import type { Broker } from './broker/broker';
import { createBroker } from './broker/create-broker';
import type { Options } from './config/options';
import { defaultOptions } from './config/options';
import { createLogger, type Logger } from './log/logger';
import { HistoryPolicies } from './config/history-policy';
import type { StreamPosition } from './broker/broker';
import { encodeData } from './protocol/envelope';
import { ChannelSequencer } from './hub/channel-sequencer';
import { CloseCode } from './protocol/opcodes';
import { ChannelRegistry } from './hub/channel-registry';
import { SecurityPolicy } from './security/security-policy';
import { TokenExpiry } from './ws/token-expiry';
import { createStats, type ServerStats } from './stats';
import { createFanout } from './hub/fanout';
import { registerHttpRoutes } from './http/routes';
import { uws, type TemplatedApp, type WebSocket, type us_listen_socket } from './uws/uws';
import type { SocketData } from './ws/connection';
import { WS_PATH, createWsBehavior } from './ws/ws-behavior';

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
  private readonly expiry = new TokenExpiry();
  private readonly app: TemplatedApp;
  private readonly sockets = new Set<WebSocket<SocketData>>();
  private listenSocket: us_listen_socket | null = null;
  private boundPort = 0;
  private shuttingDown = false;
  private stopping: Promise<void> | null = null;

  constructor(options: Partial<Options> = {}, logger?: Logger) {
    this.options = Object.freeze({ ...defaultOptions(), ...options });
    this.logger = logger ?? createLogger(this.options.logLevel);
    this.broker = createBroker(this.options, this.logger, this.stats);
    this.security = new SecurityPolicy(this.options);
    this.app =
      this.options.tlsCert !== null && this.options.tlsKey !== null
        ? uws.SSLApp({ cert_file_name: this.options.tlsCert, key_file_name: this.options.tlsKey })
        : uws.App();
    const policies = new HistoryPolicies(this.options);
    const sequencer = new ChannelSequencer(this.broker, createFanout(this.app, this.stats, this.options.compression !== 'off'), this.stats, this.logger);
    const registry = new ChannelRegistry(this.app, this.broker, (channel) => sequencer.forget(channel));
    this.broker.onMessage((channel, envelope) => sequencer.accept(channel, envelope));
    let wasReady = false;
    this.broker.onState((ready) => {
      if (ready && wasReady) {
        this.stats.brokerReconnects++;
        // Publications made while this process was cut off are fetched from history.
        sequencer.verifyAll();
      }
      if (ready) wasReady = true;
    });
    this.app.ws<SocketData>(WS_PATH, createWsBehavior({
      options: this.options,
      broker: this.broker,
      registry,
      sequencer,
      policies,
      maxBackpressure: this.options.maxBackpressure,
      logger: this.logger,
      sockets: this.sockets,
      stats: this.stats,
      security: this.security,
      expiry: this.expiry,
      isShuttingDown: () => this.shuttingDown,
    }));
    registerHttpRoutes(this.app, {
      options: this.options,
      policies,
      broker: this.broker,
      logger: this.logger,
      stats: this.stats,
      apiKeys: this.security.apiKeys,
      notReadyReason: () => this.notReadyReason(),
    });
  }

  /** The bound TCP port (useful with port 0), or 0 before start. */
  get port(): number {
    return this.boundPort;
  }

  /** Number of open WebSocket connections. */
  get connections(): number {
    return this.sockets.size;
  }

  /** Bytes queued in user space for all connections right now (read at metrics scrape time). */
  bufferedBytes(): number {
    let total = 0;
    for (const ws of this.sockets) total += ws.getBufferedAmount();
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
    await this.broker.start();
    const { host, port } = this.options;
    const socket = await new Promise<us_listen_socket | false>((resolve) => this.app.listen(host, port, resolve));
    if (socket === false) {
      throw new ListenError(`cannot listen on ${host}:${port}: the address is in use by a process without SO_REUSEPORT or not available; choose another --port / --host`);
    }
    this.listenSocket = socket;
    this.boundPort = uws.us_socket_local_port(socket as never);
    this.logger.info({ host, port: this.boundPort, broker: this.broker.kind, path: WS_PATH, tls: this.options.tlsCert !== null }, 'listening');
    return this.boundPort;
  }

  /** Publishes `data` on `channel` through the broker, as the HTTP API does; resolves with its position (null without history). */
  publish(channel: string, data: Uint8Array | string): Promise<StreamPosition | null> {
    return this.broker.publish(channel, encodeData(data));
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
    const count = this.sockets.size;
    for (const ws of [...this.sockets]) ws.end(CloseCode.GoingAway, SHUTDOWN_REASON);
    this.logger.info({ clients: count }, 'shutdown: closed clients');
    this.expiry.stop();
    await this.broker.close();
  }
}
