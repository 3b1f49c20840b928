import type { Broker } from '../broker/broker';
import type { Options } from '../config/options';
import { sendError } from '../http/reply';
import { Failures, type HttpFailure } from '../protocol/errors';
import type { Access } from '../security/access';
import { TokenError } from '../security/jwt-verifier';
import type { SecurityPolicy } from '../security/security-policy';
import type { HttpRequest, HttpResponse, us_socket_context_t } from '../uws/uws';
import { parseConnectRequest } from './connect-request';
import { Connection, type ConnectionRef, type SessionDeps } from './connection';

/** What a client is told when it tries to connect during shutdown (503 shutting_down). */
export const SHUTTING_DOWN_MESSAGE = 'the server is shutting down; reconnect to another process';

/** What the `/ws` endpoint needs: what connections share, plus the handshake's checks. */
export interface WsDeps extends SessionDeps {
  /** True once shutdown started: handshakes are refused. */
  isShuttingDown(): boolean;
  /** The server's options (behaviour settings and handshake limits). */
  readonly options: Readonly<Options>;
  /** Authentication, permissions and limits. */
  readonly security: SecurityPolicy;
  /** Publishing, history reads, and whether a channel reaches this process already. */
  readonly broker: Pick<Broker, 'publish' | 'history' | 'receivesAtOnce'>;
}

/** Subprotocol the server selects when the client offers it (next to `bearer.<token>`). */
export const SUBPROTOCOL = 'broadcaster';

/** Prefix of the subprotocol entry that carries a token. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'bearer.';

/** Picks the token from `?token=` or from a `bearer.<token>` subprotocol entry. */
function findToken(query: string, protocols: string[]): string | null {
  const fromQuery = new URLSearchParams(query).get('token');
  if (fromQuery !== null && fromQuery !== '') return fromQuery;
  const entry = protocols.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  return entry === undefined ? null : entry.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
}

/**
 * The `/ws` upgrade: every check happens here, before a socket exists — shutdown, origin,
 * URL, connection limits, token, channel permissions — and the socket opens only once the
 * broker delivers its channels (open means subscribed). Refusals are JSON HTTP answers.
 * Tokens are verified synchronously; when every channel already reaches this process the
 * upgrade completes inside the handler, otherwise once the broker confirmed the channels.
 */
export function upgradeHandler(ctx: WsDeps) {
  const { options, security } = ctx;
  const refuse = (res: HttpResponse, failure: HttpFailure, message: string): void => {
    ctx.stats.handshakesRefused++;
    sendError(res, failure, message);
  };
  return (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
    const key = req.getHeader('sec-websocket-key');
    const protocolHeader = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const origin = req.getHeader('origin');
    const query = req.getQuery() ?? '';
    if (ctx.isShuttingDown()) return refuse(res, Failures.shuttingDown.http, SHUTTING_DOWN_MESSAGE);
    if (!security.originAllowed(origin)) return refuse(res, Failures.originNotAllowed.http, `origin ${origin} is not in --allowed-origins`);
    const request = parseConnectRequest(query, options.maxSubscriptionsPerConnection);
    if (typeof request === 'string') return refuse(res, Failures.invalidChannel.http, request);
    const protocols = protocolHeader === '' ? [] : protocolHeader.split(',').map((p) => p.trim());
    const token = findToken(query, protocols);
    if (token === null && security.anonymous === null) {
      return refuse(res, Failures.unauthorized.http, 'a token is required: pass ?token=<jwt> or the subprotocol bearer.<jwt>');
    }
    const address = Buffer.from(res.getRemoteAddressAsText()).toString();
    const refusal = security.limits.acquire(address);
    if (refusal === 'process')
      return refuse(res, Failures.processFull.http, `this process holds its maximum of ${security.limits.maxTotal} connections; try another`);
    if (refusal === 'address')
      return refuse(res, Failures.tooManyFromAddress.http, `too many connections from ${address} (--max-connections-per-ip ${options.maxConnectionsPerIp})`);

    const { channels } = request;
    const selected = protocols.includes(SUBPROTOCOL) ? SUBPROTOCOL : (protocols[0] ?? '');
    const socketData = (access: Access): ConnectionRef => ({ connection: new Connection(ctx, address, access, channels.length > 0 ? request : null) });

    // Authentication is synchronous, so every check so far happened inside this handler.
    let access: Access;
    if (token !== null && security.verifier !== null) {
      try {
        access = security.accessFor(security.verifier.verify(token));
      } catch (err) {
        security.limits.release(address);
        if (err instanceof TokenError) return refuse(res, Failures.unauthorized.http, err.message);
        throw err;
      }
    } else if (security.anonymous !== null) access = security.anonymous;
    else throw new Error('no token key is configured and anonymous access is off: configure a token key or set anonymous to allow');
    const forbidden = channels.find((c) => !access.canSubscribe(c));
    if (forbidden !== undefined) {
      security.limits.release(address);
      return refuse(res, Failures.forbiddenChannel.http, `not allowed to subscribe to ${forbidden}`);
    }
    const held = ctx.hub.hold(channels);
    // The common case: every channel already reaches this process, so the upgrade completes
    // inside this handler (which uWS corks itself).
    if (channels.every((c) => ctx.broker.receivesAtOnce(c))) {
      res.upgrade(socketData(access), key, selected, extensions, context);
      return;
    }
    // Otherwise the socket opens once the broker confirmed the channels: open means subscribed.
    let aborted = false;
    res.onAborted(() => (aborted = true));
    void held.then(() => {
      const fail = (failure: HttpFailure | null, message: string): void => {
        security.limits.release(address);
        ctx.hub.release(channels);
        if (!aborted && failure !== null) refuse(res, failure, message);
      };
      if (aborted) return fail(null, '');
      // Shutdown may have begun meanwhile: such a socket would miss the going-away close.
      if (ctx.isShuttingDown()) return fail(Failures.shuttingDown.http, SHUTTING_DOWN_MESSAGE);
      // Not corked on purpose: in this uWS version, cork() around an asynchronous upgrade can
      // mistake the new WebSocket for the HTTP response it replaced (the socket memory is reused
      // in place) and close it right after open (uWebSockets issue 1928). uWS prints a warning
      // about the uncorked write; it happens only for a process's first subscribers of a channel.
      res.upgrade(socketData(access), key, selected, extensions, context);
    });
  };
}
