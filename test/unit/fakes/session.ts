import { MemoryBroker } from '../../../src/broker/memory-broker';
import { HistoryPolicies } from '../../../src/config/history-policy';
import { defaultOptions, type Options } from '../../../src/config/options';
import { ChannelHub } from '../../../src/hub/channel-hub';
import { createLogger } from '../../../src/log/logger';
import { SecurityPolicy } from '../../../src/security/security-policy';
import { createStats } from '../../../src/stats';
import type { ConnectRequest } from '../../../src/ws/connect-request';
import { Connection, type SessionDeps } from '../../../src/ws/connection';
import { TokenExpiry } from '../../../src/ws/token-expiry';
import { FakeApp } from './fake-uws';

/** Resolves after pending promise callbacks and one macrotask turn. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A process without sockets for unit tests: the real hub, memory broker (channels under `h:`
 * keep 10 publications), security policy and token expiry, over a fake uWS app. `settings`
 * changes options (e.g. clientPublish for the security policy).
 */
export async function fakeProcess(overrides: Partial<SessionDeps> = {}, settings: Partial<Options> = {}) {
  const options: Options = { ...defaultOptions(), historySize: 0, historyNamespaces: 'h:=10/60', ...settings };
  const app = new FakeApp();
  const stats = createStats();
  const policies = new HistoryPolicies(options);
  const broker = new MemoryBroker(policies, 60);
  const hub = new ChannelHub(app, broker, stats, createLogger('silent'), false);
  app.onTopicCount = (topic, newCount, oldCount) => hub.onTopicCount(topic, newCount, oldCount);
  await broker.start();
  const security = new SecurityPolicy(options);
  const expiry = new TokenExpiry();
  const deps: SessionDeps = {
    maxSubscriptions: 3,
    maxBackpressure: options.maxBackpressure,
    maxMessageSize: options.maxMessageSize,
    stats,
    logger: createLogger('silent'),
    hub,
    broker,
    policies,
    security,
    expiry,
    connections: new Set(),
    presence: null,
    ...overrides,
  };
  const anonymous = security.anonymous;
  if (anonymous === null) throw new Error('the default options allow anonymous connections');
  /** A connection as the handshake makes it (holding the URL's channels), opened on a new fake socket. */
  const connect = (request: ConnectRequest | null = null) => {
    if (request !== null) void hub.hold(request.channels);
    const conn = new Connection(deps, '127.0.0.1', anonymous, request);
    const socket = app.socket();
    conn.open(socket);
    return { conn, socket };
  };
  const close = async (): Promise<void> => {
    expiry.stop();
    await broker.close();
  };
  return { app, stats, broker, hub, deps, connect, close };
}
