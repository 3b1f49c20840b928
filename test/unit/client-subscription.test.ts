import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, type Publication, type SubscribedEvent } from '../../src/client/index';
import { ChannelPosition } from '../../src/client/position';
import { FakeClock, settle } from '../helpers/fake-clock';
import { FakeSocket } from '../helpers/fake-socket';

async function connectedClient(options: ConstructorParameters<typeof Client>[1] = {}): Promise<{ client: Client; clock: FakeClock; socket: FakeSocket }> {
  FakeSocket.instances = [];
  const clock = new FakeClock();
  const client = new Client('ws://a/ws', { WebSocket: FakeSocket, clock, random: () => 0.5, pingInterval: 0, ...options });
  client.connect();
  await settle();
  FakeSocket.last.open();
  return { client, clock, socket: FakeSocket.last };
}

/** Answers the latest subscribe of `channel` on `socket` with `result`; returns that subscribe frame. */
async function answerSubscribe(socket: FakeSocket, channel: string, result: unknown): Promise<unknown[]> {
  const frame = socket
    .sentWith(1)
    .filter((f) => f[2] === channel)
    .at(-1)!;
  socket.receive([1, frame[1], result]);
  await settle();
  return frame;
}

test('position bookkeeping: next offset delivered, older ones are duplicates, a jump is a gap', () => {
  const pos = new ChannelPosition();
  assert.equal(pos.accept(7), 'deliver'); // first seen
  assert.equal(pos.accept(8), 'deliver');
  assert.equal(pos.accept(8), 'duplicate');
  assert.equal(pos.accept(3), 'duplicate');
  assert.equal(pos.accept(10), 'gap');
  assert.equal(pos.offset, 8);
  assert.equal(pos.accept(null), 'deliver'); // channels without history
  assert.equal(pos.offset, 8);
});

test('position bookkeeping: a result of the same epoch keeps the larger offset, a new epoch starts over', () => {
  const pos = new ChannelPosition({ offset: 10, epoch: 'a' });
  pos.applyResult({ offset: 8, epoch: 'a' });
  assert.deepEqual(pos.known, { offset: 10, epoch: 'a' });
  pos.applyResult({ offset: 12, epoch: 'a' });
  assert.deepEqual(pos.known, { offset: 12, epoch: 'a' });
  pos.applyResult({ offset: 2, epoch: 'b' });
  assert.deepEqual(pos.known, { offset: 2, epoch: 'b' });
  pos.applyResult(null);
  assert.deepEqual(pos.known, { offset: 2, epoch: 'b' });
});

test('duplicates never reach the application; a gap asks for a replay from the position', async () => {
  const { client, socket } = await connectedClient();
  const seen: Array<number | null> = [];
  const sub = client.subscribe('news', { publication: (p: Publication) => seen.push(p.offset) });
  await answerSubscribe(socket, 'news', { offset: 4, epoch: 'E' });
  for (const offset of [5, 5, 6, 4, 6]) socket.receive([0, 'news', offset, 'x']);
  assert.deepEqual(seen, [5, 6]);
  socket.receive([0, 'news', 9, 'x']); // 7 and 8 were skipped (policy drop)
  assert.deepEqual(seen, [5, 6]);
  const resync = socket.sentWith(1).at(-1)!;
  assert.deepEqual(resync.slice(2), ['news', 6, 'E']);
  // The server replays 7, 8, 9, then replies; the live 9 arriving again is a duplicate.
  for (const offset of [7, 8, 9]) socket.receive([0, 'news', offset, 'x']);
  socket.receive([1, resync[1], { offset: 9, epoch: 'E', recovered: true }]);
  await settle();
  socket.receive([0, 'news', 9, 'x']);
  socket.receive([0, 'news', 10, 'x']);
  assert.deepEqual(seen, [5, 6, 7, 8, 9, 10]);
  assert.deepEqual(sub.position, { offset: 10, epoch: 'E' });
});

test('a resync frame is answered with subscribe-from-a-position', async () => {
  const { client, socket } = await connectedClient();
  const events: SubscribedEvent[] = [];
  client.subscribe('news', { subscribed: (e) => events.push(e) });
  await answerSubscribe(socket, 'news', { offset: 2, epoch: 'E' });
  socket.receive([0, 'news', 3, 'x']);
  socket.receive([4, 'news', 'epoch changed']);
  const frame = await answerSubscribe(socket, 'news', { offset: 1, epoch: 'F', recovered: false });
  assert.deepEqual(frame.slice(2), ['news', 3, 'E']);
  assert.deepEqual(
    events.map((e) => [e.reason, e.wasRecovering, e.recovered]),
    [
      ['subscribe', false, false],
      ['resync', true, false],
    ],
  );
  assert.deepEqual(client.getSubscription('news')!.position, { offset: 1, epoch: 'F' });
});

test('after a reconnect every subscription resubscribes from its position and reports recovered', async () => {
  const { client, clock, socket } = await connectedClient();
  const events: SubscribedEvent[] = [];
  const seen: number[] = [];
  client.subscribe('a', { subscribed: (e) => events.push(e), publication: (p) => seen.push(p.offset!) });
  client.subscribe('b');
  await answerSubscribe(socket, 'a', { offset: 0, epoch: 'E' });
  await answerSubscribe(socket, 'b', null); // no history
  socket.receive([0, 'a', 1, 'x']);
  socket.serverClose(1006);
  assert.equal(client.state, 'connecting');
  assert.equal(client.getSubscription('a')!.state, 'subscribing');
  await clock.advance(250); // back-off: 0.5 * 500 ms
  const second = FakeSocket.last;
  assert.notEqual(second, socket);
  second.open();
  assert.deepEqual(
    second.sentWith(1).map((f) => f.slice(2)),
    [['a', 1, 'E'], ['b']],
  );
  second.receive([0, 'a', 1, 'x']); // overlap: already seen
  second.receive([0, 'a', 2, 'x']);
  await answerSubscribe(second, 'a', { offset: 2, epoch: 'E', recovered: true });
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual(events.at(-1), { channel: 'a', position: { offset: 2, epoch: 'E' }, wasRecovering: true, recovered: true, reason: 'reconnect' });
});

test('a temporary error reply to a subscribe is retried with back-off; a permanent one ends the subscription', async () => {
  const { client, clock, socket } = await connectedClient({ retry: { initialDelay: 1000, maxDelay: 8000, factor: 2 } });
  const errors: number[] = [];
  const sub = client.subscribe('news', { error: (e) => errors.push(e.code) });
  let frame = socket.sentWith(1).at(-1)!;
  socket.receive([2, frame[1], 105, 'history could not be read']);
  await settle();
  assert.equal(socket.sentWith(1).length, 1);
  await clock.advance(499);
  assert.equal(socket.sentWith(1).length, 1);
  await clock.advance(1); // 0.5 * 1000 ms
  assert.equal(socket.sentWith(1).length, 2);
  frame = socket.sentWith(1).at(-1)!;
  socket.receive([2, frame[1], 107, 'in progress']);
  await settle();
  await clock.advance(1000); // 0.5 * 2000 ms
  assert.equal(socket.sentWith(1).length, 3);
  await answerSubscribe(socket, 'news', { offset: 0, epoch: 'E' });
  assert.equal(sub.state, 'subscribed');
  assert.deepEqual(errors, [105, 107]);

  const unsubscribed: Array<number | undefined> = [];
  const other = client.subscribe('secret', { unsubscribed: (e) => unsubscribed.push(e.error?.code) });
  socket.receive([2, socket.sentWith(1).at(-1)![1], 108, 'not allowed to subscribe to secret']);
  await settle();
  await clock.advance(60_000);
  assert.equal(other.state, 'unsubscribed');
  assert.deepEqual(unsubscribed, [108]);
  assert.equal(socket.sentWith(1).filter((f) => f[2] === 'secret').length, 1);
  assert.equal(client.getSubscription('secret'), undefined);
});

test('unsubscribe during a subscribe waits for the reply before telling the server (no error 107)', async () => {
  const { client, socket } = await connectedClient();
  const sub = client.subscribe('news');
  sub.unsubscribe();
  assert.equal(socket.sentWith(2).length, 0);
  await answerSubscribe(socket, 'news', { offset: 0, epoch: 'E' });
  assert.deepEqual(
    socket.sentWith(2).map((f) => f[2]),
    ['news'],
  );
  socket.receive([0, 'news', 1, 'x']); // late publication: dropped, no error
  assert.equal(sub.state, 'unsubscribed');
});

test('format msgpack decodes bin data into values; strings stay strings', async () => {
  const { client, socket } = await connectedClient({ format: 'msgpack' });
  const data: unknown[] = [];
  client.subscribe('news', { publication: (p) => data.push(p.data) });
  await answerSubscribe(socket, 'news', null);
  socket.receive([0, 'news', null, Buffer.from([0x81, 0xa1, 0x61, 0x01])]);
  socket.receive([0, 'news', null, 'plain']);
  assert.deepEqual(data, [{ a: 1 }, 'plain']);
});
