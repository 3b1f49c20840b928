import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BroadcasterError, Client, ClientErrorCode, LocalCloseCode, type ClientOptions } from '../../src/client/index';
import { refreshDelay, tokenExpiry } from '../../src/client/token';
import { FakeClock, settle } from '../helpers/fake-clock';
import { FakeSocket } from '../helpers/fake-socket';

function makeClient(urls: string | string[], options: ClientOptions = {}): { client: Client; clock: FakeClock } {
  FakeSocket.instances = [];
  const clock = options.clock instanceof FakeClock ? options.clock : new FakeClock();
  const client = new Client(urls, { WebSocket: FakeSocket, random: () => 0.5, pingInterval: 0, ...options, clock });
  return { client, clock };
}

/** An unsigned JWT-shaped token expiring at `exp` (seconds); the SDK only reads it. */
function jwt(exp: number, n = 1): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part({ sub: 'u', exp, n })}.sig`;
}

test('reconnects with full-jitter back-off, trying the URLs in turn, and resets after a success', async () => {
  const { client, clock } = makeClient(['ws://a/ws', 'ws://b/ws']);
  const events: string[] = [];
  client.on('connecting', (e) => events.push(`connecting ${e.url} ${e.attempt}`));
  client.on('disconnected', (e) => events.push(`disconnected ${e.code} ${e.reconnecting}`));
  client.on('connected', (e) => events.push(`connected ${e.url}`));
  client.connect();
  await settle();
  FakeSocket.last.serverClose(1006);
  assert.deepEqual(clock.pending(), [250]); // 0.5 * 500
  await clock.advance(250);
  FakeSocket.last.serverClose(1006);
  assert.deepEqual(clock.pending(), [500]); // 0.5 * 1000
  await clock.advance(500);
  FakeSocket.last.serverClose(1006);
  assert.deepEqual(clock.pending(), [1000]);
  await clock.advance(1000);
  FakeSocket.last.open();
  FakeSocket.last.serverClose(1001, 'server shutting down, reconnect');
  assert.deepEqual(clock.pending(), [250]);
  assert.deepEqual(
    FakeSocket.instances.map((s) => s.url),
    ['ws://a/ws', 'ws://b/ws', 'ws://a/ws', 'ws://b/ws'],
  );
  assert.deepEqual(events, [
    'connecting ws://a/ws 0',
    'disconnected 1006 true',
    'connecting ws://b/ws 1',
    'disconnected 1006 true',
    'connecting ws://a/ws 2',
    'disconnected 1006 true',
    'connecting ws://b/ws 3',
    'connected ws://b/ws',
    'disconnected 1001 true',
  ]);
  client.close();
  assert.deepEqual(clock.pending(), []);
  assert.equal(client.state, 'disconnected');
});

test('the token goes in the bearer subprotocol next to broadcaster', async () => {
  const { client } = makeClient('ws://a/ws', { token: async () => 'abc.def.ghi' });
  client.connect();
  await settle();
  assert.deepEqual(FakeSocket.last.protocols, ['broadcaster', 'bearer.abc.def.ghi']);
  client.close();
});

test('ping watchdog: a connection whose ping gets no reply (and nothing else arrives) is dropped with 4900', async () => {
  const { client, clock } = makeClient('ws://a/ws', { pingInterval: 20_000, pingTimeout: 5_000 });
  const closes: number[] = [];
  client.on('disconnected', (e) => closes.push(e.code));
  client.connect();
  await settle();
  const socket = FakeSocket.last;
  socket.open();
  await clock.advance(20_000);
  const ping = socket.sentWith(4).at(-1)!;
  socket.receive([1, ping[1], null]);
  await settle();
  await clock.advance(20_000); // second ping; other frames arrive meanwhile: alive though busy
  await clock.advance(1_000);
  socket.receive([0, 'news', null, 'x']);
  await clock.advance(4_000);
  assert.deepEqual(closes, []);
  await clock.advance(20_000); // third ping; silence
  await clock.advance(4_999);
  assert.deepEqual(closes, []);
  await clock.advance(1);
  assert.deepEqual(closes, [LocalCloseCode.PingTimeout]);
  assert.equal(socket.closedByClient?.code, 4900);
  assert.equal(socket.sentWith(4).length, 3);
  client.close();
});

test('a handshake that never completes is abandoned after connectTimeout (4901)', async () => {
  const { client, clock } = makeClient('ws://a/ws', { connectTimeout: 3000 });
  const closes: number[] = [];
  client.on('disconnected', (e) => closes.push(e.code));
  client.connect();
  await settle();
  await clock.advance(3000);
  assert.deepEqual(closes, [LocalCloseCode.ConnectTimeout]);
  client.close();
});

test('token refresh: sent refreshMargin before expiry (or half-way for short tokens), rescheduled from the reply', async () => {
  assert.equal(refreshDelay(1_000_000 + 120_000, 1_000_000, 30_000), 90_000);
  assert.equal(refreshDelay(1_000_000 + 10_000, 1_000_000, 30_000), 5_000);
  assert.equal(refreshDelay(999, 1000, 30_000), 0);
  assert.equal(tokenExpiry(jwt(1234)), 1_234_000);
  assert.equal(tokenExpiry('not a jwt'), null);

  let issued = 0;
  const clock0 = new FakeClock();
  const nowS = Math.floor(clock0.now() / 1000);
  const { client, clock } = makeClient('ws://a/ws', { token: () => jwt(nowS + 120, ++issued), clock: clock0 });
  const refreshed: Array<number | null> = [];
  client.on('refreshed', (e) => refreshed.push(e.expiresAt));
  client.connect();
  await settle();
  const socket = FakeSocket.last;
  socket.open();
  await clock.advance(89_999);
  assert.equal(socket.sentWith(5).length, 0);
  await clock.advance(1);
  const refresh = socket.sentWith(5)[0]!;
  assert.equal(tokenExpiry(refresh[2] as string), (nowS + 120) * 1000);
  assert.equal(issued, 2);
  socket.receive([1, refresh[1], { expiresAt: nowS + 200 }]);
  await settle();
  assert.deepEqual(refreshed, [(nowS + 200) * 1000]);
  // next refresh 30 s before the new expiry
  assert.deepEqual(clock.pending(), [(nowS + 200) * 1000 - 30_000 - clock.now()]);
  client.close();
});

test('a refused refresh is reported and retried while the old token lasts', async () => {
  const clock0 = new FakeClock();
  const nowS = Math.floor(clock0.now() / 1000);
  const { client, clock } = makeClient('ws://a/ws', { token: () => jwt(nowS + 60), clock: clock0 });
  const errors: string[] = [];
  client.on('error', (e) => errors.push(`${e.code} ${e.message}`));
  client.connect();
  await settle();
  const socket = FakeSocket.last;
  socket.open();
  await clock.advance(30_000); // 60 s token: half-way
  socket.receive([2, socket.sentWith(5)[0]![1], 110, 'token expired']);
  await settle();
  assert.deepEqual(errors, ['110 token refresh failed: token expired']);
  assert.deepEqual(clock.pending(), [15_000]); // half the remaining 30 s
  await clock.advance(15_000);
  assert.equal(socket.sentWith(5).length, 2);
  client.close();
});

test('publish resolves with the position or rejects with a typed error carrying the code', async () => {
  const { client, clock } = makeClient('ws://a/ws', { requestTimeout: 2000 });
  await assert.rejects(client.publish('news', 'x'), (err: BroadcasterError) => err.code === ClientErrorCode.NotConnected && err.temporary);
  client.connect();
  await settle();
  const socket = FakeSocket.last;
  socket.open();
  const ok = client.publish('chat:1', { text: 'hi' });
  const refused = assert.rejects(
    client.publish('news', 'x'),
    (err: BroadcasterError) => err instanceof BroadcasterError && err.code === 108 && !err.temporary && /not allowed/.test(err.message),
  );
  const lost = assert.rejects(client.publish('chat:1', 'y'), (err: BroadcasterError) => err.code === ClientErrorCode.ConnectionLost);
  const [first, second] = socket.sentWith(3);
  assert.ok(first![3] instanceof Uint8Array || Buffer.isBuffer(first![3]));
  socket.receive([1, first![1], { offset: 3, epoch: 'E' }]);
  socket.receive([2, second![1], 108, 'not allowed to publish to news']);
  assert.deepEqual(await ok, { offset: 3, epoch: 'E' });
  await refused;
  socket.serverClose(1006);
  await lost;
  await clock.advance(250);
  FakeSocket.last.open();
  const late = assert.rejects(client.publish('chat:1', 'z'), (err: BroadcasterError) => err.code === ClientErrorCode.Timeout);
  await clock.advance(2000);
  await late;
  await assert.rejects(client.publish('bad channel', 'x'), (err: BroadcasterError) => err.code === 102);
  client.close();
});

test('constructor errors name the fix', () => {
  assert.throws(() => new Client([], { WebSocket: FakeSocket }), /at least one ws:\/\//);
  assert.throws(() => new Client('http://a/ws', { WebSocket: FakeSocket }), /not a ws:\/\/ or wss:\/\/ URL/);
  assert.throws(() => new Client('ws://a/ws', { WebSocket: FakeSocket, pingTimeout: -1 }), /pingTimeout/);
});
