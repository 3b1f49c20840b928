import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/protocol/opcodes';
import { fakeProcess, settle } from './fakes/session';

const errorCodes = (frames: unknown[][]): unknown[] => frames.filter((f) => f[0] === 2).map((f) => f[2]);

test('a subscribe is answered after the broker confirmed it; a second subscribe or an unsubscribe meanwhile gets 107', async (t) => {
  const p = await fakeProcess();
  t.after(p.close);
  const { conn, socket } = p.connect();
  conn.subscribe(1, 'c', null);
  assert.ok(conn.isPending('c'));
  conn.subscribe(2, 'c', null);
  conn.unsubscribe(3, 'c');
  assert.deepEqual(socket.frames, [
    [2, 2, ErrorCode.SubscriptionInProgress, 'a subscribe of c is still in progress on this connection'],
    [2, 3, ErrorCode.SubscriptionInProgress, 'a subscribe of c is still in progress on this connection'],
  ]);
  await settle();
  assert.deepEqual(socket.frames[2], [1, 1, null], 'a channel without history answers nil');
  assert.ok(!conn.isPending('c'));
  assert.deepEqual([conn.subscriptionCount, p.stats.subscriptions], [1, 1], 'counted once');
  await p.broker.publish('c', 'live');
  assert.deepEqual(socket.frames.at(-1), [0, 'c', null, 'live']);
  conn.unsubscribe(4, 'c');
  assert.deepEqual(socket.frames.at(-1), [1, 4, null]);
  assert.deepEqual([conn.subscriptionCount, p.stats.subscriptions], [0, 0]);
});

test('subscribing a channel already held does not count it twice; the limit counts pending subscribes', async (t) => {
  const p = await fakeProcess();
  t.after(p.close);
  const { conn, socket } = p.connect();
  conn.subscribe(1, 'a', null);
  await settle();
  conn.subscribe(2, 'a', null);
  await settle();
  assert.equal(conn.subscriptionCount, 1);
  conn.subscribe(3, 'b', null);
  conn.subscribe(4, 'c', null);
  conn.subscribe(5, 'd', null);
  assert.deepEqual(errorCodes(socket.frames), [ErrorCode.TooManySubscriptions], 'the fourth channel passes maxSubscriptions 3');
  await settle();
  assert.equal(p.stats.subscriptions, 3);
});

test('a pending subscribe whose socket closes sends nothing, joins nothing and leaves no count or recording behind', async (t) => {
  const p = await fakeProcess();
  t.after(p.close);
  await p.broker.publish('h:1', 'old');
  const { conn, socket } = p.connect();
  conn.subscribe(1, 'h:1', { offset: 0, epoch: 'stale-epoch' });
  conn.subscribe(2, 'c', null);
  assert.equal(p.stats.subscriptions, 2);
  conn.closedWith(1006);
  socket.close();
  await settle();
  await settle();
  assert.deepEqual(socket.frames, [], 'no reply after close');
  assert.equal(socket.touchedAfterClose, 0);
  assert.equal(p.app.numSubscribers('h:1') + p.app.numSubscribers('c'), 0, 'the socket joined no topic');
  assert.deepEqual([p.stats.subscriptions, p.stats.connectionsClosed, p.stats.abnormalCloses], [0, 1, 1]);
  assert.equal(p.deps.connections.size, 0);
  assert.ok(!p.broker.subscribedChannels().has('h:1') && !p.broker.subscribedChannels().has('c'), 'holds released');
  assert.equal(p.hub.recordingCount('h:1'), 0, 'the recovery recording was closed');
});

test('a subscribe from a position sends history, then what was forwarded during the read, then live publications, once each and in order', async (t) => {
  const p = await fakeProcess();
  t.after(p.close);
  const realHistory = p.broker.history.bind(p.broker);
  let duringRead = true;
  // A publication forwarded after the history read started reaches the client from the recovery buffer.
  p.deps.broker.history = async (channel, since, limit) => {
    const page = await realHistory(channel, since, limit);
    if (duringRead && since < Number.MAX_SAFE_INTEGER) {
      duringRead = false;
      await p.broker.publish(channel, 'during');
    }
    return page;
  };
  const watcher = p.app.socket();
  watcher.subscribe('h:1');
  for (const data of ['1', '2', '3']) await p.broker.publish('h:1', data);
  const epoch = p.hub.position('h:1')?.epoch ?? '';
  const { conn, socket } = p.connect();
  conn.subscribe(7, 'h:1', { offset: 1, epoch });
  await settle();
  await settle();
  await p.broker.publish('h:1', 'live');
  assert.deepEqual(socket.offsets('h:1'), [2, 3, 4, 5]);
  assert.deepEqual(
    socket.frames.filter((f) => f[0] === 0).map((f) => f[3]),
    ['2', '3', 'during', 'live'],
  );
  const reply = socket.frames.find((f) => f[0] === 1);
  assert.deepEqual(reply, [1, 7, { offset: 4, epoch, recovered: true }]);
  assert.deepEqual([p.stats.recoveriesSucceeded, p.stats.publicationsRecovered], [1, 2]);
});

test('a URL subscription with since gets a subscribed frame and its missed publications', async (t) => {
  const p = await fakeProcess();
  t.after(p.close);
  const watcher = p.app.socket();
  watcher.subscribe('h:2');
  for (const data of ['1', '2']) await p.broker.publish('h:2', data);
  const epoch = p.hub.position('h:2')?.epoch ?? '';
  const { socket } = p.connect({ channels: ['h:2', 'c'], since: new Map([['h:2', { offset: 0, epoch }]]), positions: false });
  assert.ok(p.app.isOn(socket, 'c'), 'a channel without position is joined in open');
  await settle();
  await settle();
  assert.deepEqual(socket.offsets('h:2'), [1, 2]);
  assert.deepEqual(socket.frames.at(-1), [3, 'h:2', { offset: 2, epoch, recovered: true }]);
  assert.equal(p.stats.subscriptions, 2);
});

test('a failed history read: a new subscription is undone, a resubscribe keeps the live one, a URL one joins anyway', async (t) => {
  const p = await fakeProcess();
  t.after(p.close);
  p.deps.broker.history = () => Promise.reject(new Error('redis down'));
  const { conn, socket } = p.connect({ channels: ['h:u'], since: new Map([['h:u', { offset: 0, epoch: 'e' }]]), positions: false });
  conn.subscribe(1, 'h:new', { offset: 0, epoch: 'e' });
  await settle();
  await settle();
  assert.deepEqual(socket.frames, [
    [2, null, ErrorCode.BrokerUnavailable, 'h:u: history could not be read: redis down'],
    [2, 1, ErrorCode.BrokerUnavailable, 'history could not be read: redis down'],
  ]);
  assert.ok(p.app.isOn(socket, 'h:u'), 'URL subscription joined without recovery');
  assert.ok(!p.app.isOn(socket, 'h:new'));
  assert.equal(conn.subscriptionCount, 1);
  conn.subscribe(2, 'h:u', { offset: 0, epoch: 'e' });
  await settle();
  await settle();
  assert.ok(p.app.isOn(socket, 'h:u'), 'a failed resync keeps the live subscription');
  assert.deepEqual([conn.subscriptionCount, p.stats.subscriptions], [1, 1]);
});

test('an expired token closes the connection with 4001; a closed one is not touched', async (t) => {
  const p = await fakeProcess();
  t.after(p.close);
  const { conn, socket } = p.connect();
  const expiring = Object.assign(Object.create(Object.getPrototypeOf(conn.access)), conn.access, { expiresAt: Date.now() - 1 });
  conn.setAccess(expiring);
  // One-second resolution: the connection expires once its expiry second has passed.
  p.deps.expiry.tick(Date.now() + 1000);
  assert.deepEqual(socket.closedWith, { code: 4001, reason: 'token expired: reconnect with a fresh token' });
  const second = p.connect();
  second.conn.setAccess(expiring);
  second.conn.closedWith(1000);
  p.deps.expiry.tick(Date.now() + 1000);
  assert.equal(second.socket.closedWith, null);
  assert.equal(second.socket.touchedAfterClose, 0);
});
