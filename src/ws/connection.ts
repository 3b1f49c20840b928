import type { Broker } from '../broker/broker';
import type { Options } from '../config/options';
import type { Logger } from '../log/logger';
import { encodeError } from '../protocol/commands';
import type { ErrorCodeValue } from '../protocol/opcodes';
import type { Access } from '../security/access';
import type { Bucket } from '../security/rate-limiter';
import type { SecurityPolicy } from '../security/security-policy';
import type { ServerStats } from '../stats';
import type { ChannelRegistry } from '../hub/channel-registry';
import type { TokenExpiry } from './token-expiry';
import type { RecoveryContext } from './recovery';
import type { ConnectRequest } from './connect-request';
import type { WebSocket } from '../uws/uws';

/** Per-connection state, kept small: it exists once per socket. */
export interface SocketData {
  /** What the URL asked for (channels, positions), until `open` has subscribed them; then null. */
  connect: ConnectRequest | null;
  /** Channels whose subscribe has not been answered yet, or null. */
  pending: Set<string> | null;
  /** Number of channels subscribed. */
  subscriptions: number;
  /** Set once the socket closed; uWS forbids touching a closed socket. */
  closed: boolean;
  /** Resumes a recovery waiting for the send buffer to drain, or null. */
  drainWaiter: (() => void) | null;
  /** Client IP address (for the per-address connection limit). */
  address: string;
  /** What this connection may do (token claims and server patterns). */
  access: Access;
  /** Inbound rate-limit state, created by the first command (most subscribers never send one). */
  bucket: Bucket | null;
  /** Second (since 1970) whose expiry bucket holds this socket, or 0. */
  expirySecond: number;
}

/** What the WebSocket handlers need from the server. */
export interface WsContext extends RecoveryContext {
  options: Readonly<Options>;
  broker: Broker;
  registry: ChannelRegistry;
  logger: Logger;
  sockets: Set<WebSocket<SocketData>>;
  /** Process counters. */
  stats: ServerStats;
  /** Authentication, permissions and limits. */
  security: SecurityPolicy;
  /** Closes connections whose token expired. */
  expiry: TokenExpiry;
  /** True once shutdown started: no new connections or commands. */
  isShuttingDown(): boolean;
}

/** What a client is told when it arrives or sends a command during shutdown. */
export const SHUTTING_DOWN_MESSAGE = 'the server is shutting down; reconnect to another process';

/** Sends a frame unless the socket closed meanwhile. */
export function send(ws: WebSocket<SocketData>, frame: Buffer): void {
  if (!ws.getUserData().closed) ws.send(frame, true, false);
}

/** Sends an error reply `[2, id, code, message]` and counts it. */
export function sendErrorReply(ctx: WsContext, ws: WebSocket<SocketData>, id: number | null, code: ErrorCodeValue, message: string): void {
  ctx.stats.commandErrors++;
  send(ws, encodeError(id, code, message));
}
