import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, LocalCloseCode } from '../../src/client/index';
import { FakeClock, settle } from '../helpers/fake-clock';
import { FakeSocket } from '../helpers/fake-socket';

// Stand-ins for the browser's window and document: plain EventTargets, as the SDK only listens.
const g = globalThis as { window?: unknown; document?: unknown };
const fakeWindow = new EventTarget();
const fakeDocument = Object.assign(new EventTarget(), { visibilityState: 'hidden' });
before(() => {
  g.window = fakeWindow;
  g.document = fakeDocument;
});
after(() => {
  delete g.window;
  delete g.document;
});

async function connected(): Promise<{ client: Client; clock: FakeClock }> {
  FakeSocket.instances = [];
  const clock = new FakeClock();
  const client = new Client('ws://a/ws', { WebSocket: FakeSocket, clock, random: () => 0.5, pingInterval: 25_000 });
  client.connect();
  await settle();
  FakeSocket.last.open();
  return { client, clock };
}

test('offline drops the connection (4902) and waits; online reconnects at once', async () => {
  const { client, clock } = await connected();
  const closes: Array<[number, boolean]> = [];
  client.on('disconnected', (e) => closes.push([e.code, e.reconnecting]));
  fakeWindow.dispatchEvent(new Event('offline'));
  assert.deepEqual(closes, [[LocalCloseCode.Offline, false]]);
  assert.equal(client.state, 'disconnected');
  assert.deepEqual(clock.pending(), []);
  fakeWindow.dispatchEvent(new Event('online'));
  await settle();
  assert.equal(FakeSocket.instances.length, 2);
  FakeSocket.last.open();
  assert.equal(client.state, 'connected');
  client.close();
  fakeWindow.dispatchEvent(new Event('online'));
  await settle();
  assert.equal(FakeSocket.instances.length, 2, 'no listener is left after close()');
});

test('a page becoming visible checks the connection with a ping, or skips the back-off wait', async () => {
  const { client, clock } = await connected();
  const socket = FakeSocket.last;
  fakeDocument.visibilityState = 'visible';
  fakeDocument.dispatchEvent(new Event('visibilitychange'));
  assert.equal(socket.sentWith(4).length, 1, 'ping sent at once');
  socket.serverClose(1006);
  assert.deepEqual(clock.pending(), [250]);
  fakeDocument.dispatchEvent(new Event('visibilitychange'));
  await settle();
  assert.equal(FakeSocket.instances.length, 2, 'reconnected without waiting');
  assert.deepEqual(clock.pending(), [10_000], 'only the connect timeout is left');
  fakeDocument.visibilityState = 'hidden';
  client.close();
});
