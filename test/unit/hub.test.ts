import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HistoryPage, MessageHandler, StateHandler } from '../../src/broker/broker';
import { ChannelHub, type HubBroker } from '../../src/hub/channel-hub';
import { createLogger } from '../../src/log/logger';
import { createStats } from '../../src/stats';
import { FakeApp } from './fakes/fake-uws';
import { envelope } from './fakes/sequencer';
import { fakeProcess, settle } from './fakes/session';

test('the hub subscribes the broker while a channel has local subscribers and fans out one frame per publication', async (t) => {
  const p = await fakeProcess();
  t.after(p.close);
  const a = p.app.socket();
  const b = p.app.socket();
  a.subscribe('c');
  b.subscribe('c');
  assert.ok(p.broker.subscribedChannels().has('c'));
  await p.broker.publish('c', 'one');
  assert.equal(p.app.published.length, 1, 'one app.publish for two subscribers');
  assert.deepEqual(a.frames, [[0, 'c', null, 'one']]);
  assert.deepEqual(b.frames, [[0, 'c', null, 'one']]);
  a.unsubscribe('c');
  assert.ok(p.broker.subscribedChannels().has('c'), 'b still listens');
  b.unsubscribe('c');
  assert.ok(!p.broker.subscribedChannels().has('c'), 'the last subscriber left');
  await p.broker.publish('c', 'two');
  assert.equal(p.app.published.length, 1, 'nothing fanned out for a channel nobody receives');
});

test('a hold keeps the broker subscribed through a topic count of zero until it is released', async (t) => {
  const p = await fakeProcess();
  t.after(p.close);
  await p.hub.hold(['c']);
  const a = p.app.socket();
  a.subscribe('c');
  a.unsubscribe('c');
  assert.ok(p.broker.subscribedChannels().has('c'), 'held by a handshake in progress');
  p.hub.release(['c']);
  assert.ok(!p.broker.subscribedChannels().has('c'));
});

test('a release while the topic still has subscribers keeps the channel', async (t) => {
  const p = await fakeProcess();
  t.after(p.close);
  await p.hub.hold(['c']);
  p.app.socket().subscribe('c');
  p.hub.release(['c']);
  assert.ok(p.broker.subscribedChannels().has('c'));
});

test('a recording gets every forwarded publication of its channel, in order, until it is closed', async (t) => {
  const p = await fakeProcess();
  t.after(p.close);
  await p.hub.hold(['h:1', 'h:2']);
  const list = p.hub.openRecording('h:1');
  for (const data of ['a', 'b', 'c']) await p.broker.publish('h:1', data);
  await p.broker.publish('h:2', 'other');
  assert.deepEqual(
    list.map((item) => item.view.offset),
    [1, 2, 3],
  );
  p.hub.closeRecording('h:1', list);
  await p.broker.publish('h:1', 'd');
  assert.equal(list.length, 3, 'closed: nothing more recorded');
  assert.deepEqual(p.hub.position('h:1')?.offset, 4, 'the position follows what was forwarded');
  await settle();
});

/** A broker the test drives by hand: it delivers envelopes and readiness changes, and records subscriptions and history reads. */
function handDrivenBroker() {
  let deliver: MessageHandler = () => {};
  let report: StateHandler = () => {};
  const subscribed = new Set<string>();
  const reads: Array<{ channel: string; since: number; limit: number; resolve(page: HistoryPage): void }> = [];
  const broker: HubBroker = {
    subscribe: async (channel) => void subscribed.add(channel),
    unsubscribe: (channel) => void subscribed.delete(channel),
    history: (channel, since, limit) => new Promise<HistoryPage | null>((resolve) => reads.push({ channel, since, limit, resolve })),
    onMessage: (handler) => void (deliver = handler),
    onState: (handler) => void (report = handler),
  };
  return {
    broker,
    subscribed,
    reads,
    deliver: (channel: string, bytes: Buffer) => deliver(channel, bytes),
    state: (ready: boolean) => report(ready, ready ? 'ready' : 'connection lost'),
  };
}

/** A hub over a fake uWS app and a hand-driven broker, with one socket subscribed to `c`. */
function handDrivenHub(windowMs = 0) {
  const app = new FakeApp();
  const stats = createStats();
  const bus = handDrivenBroker();
  const hub = new ChannelHub(app, bus.broker, stats, createLogger('silent'), false, windowMs);
  app.onTopicCount = (topic, newCount, oldCount) => hub.onTopicCount(topic, newCount, oldCount);
  const socket = app.socket();
  socket.subscribe('c');
  return { app, stats, bus, hub, socket };
}

test('a lost epoch reaches the channel subscribers as a resync frame before the new epoch publications', () => {
  const { bus, socket } = handDrivenHub();
  bus.deliver('c', envelope(1));
  bus.deliver('c', envelope(1, 'e2'));
  assert.deepEqual(socket.frames, [
    [0, 'c', 1, '1'],
    [4, 'c', 'epoch changed: the channel history was lost'],
    [0, 'c', 1, '1'],
  ]);
});

test('when the last subscriber leaves, the broker is unsubscribed and the channel position forgotten', () => {
  const { bus, hub, socket } = handDrivenHub();
  assert.ok(bus.subscribed.has('c'));
  bus.deliver('c', envelope(5));
  assert.deepEqual(hub.position('c'), { epoch: 'e1', offset: 5 });
  socket.unsubscribe('c');
  assert.ok(!bus.subscribed.has('c'));
  assert.equal(hub.position('c'), null);
});

test('a broker that is ready again is counted as a reconnect and every channel is checked against history; the first ready is not', () => {
  const { stats, bus } = handDrivenHub();
  bus.state(false);
  bus.state(true);
  bus.deliver('c', envelope(1));
  assert.deepEqual([stats.brokerReconnects, bus.reads.length], [0, 0], 'the first connection');
  bus.state(false);
  assert.equal(stats.brokerReconnects, 0, 'a drop alone is no reconnect');
  bus.state(true);
  assert.equal(stats.brokerReconnects, 1);
  assert.deepEqual(
    bus.reads.map(({ channel, since, limit }) => [channel, since, limit]),
    [['c', 1, Number.MAX_SAFE_INTEGER]],
  );
  bus.state(true);
  assert.equal(stats.brokerReconnects, 2, 'ready again while ready: the broker remade its subscriptions');
});

test('observe sets the position of a channel no publication was seen on yet', () => {
  const { hub } = handDrivenHub();
  assert.equal(hub.position('c'), null);
  hub.observe('c', 'e7', 41);
  assert.deepEqual(hub.position('c'), { epoch: 'e7', offset: 41 });
});

test('drain fans out what the fan-out window gathered', () => {
  const { bus, hub, socket } = handDrivenHub(1000);
  bus.deliver('c', envelope(1));
  bus.deliver('c', envelope(2));
  assert.deepEqual(socket.offsets('c'), [1], 'the first at once, the second waits for the window');
  hub.drain();
  assert.deepEqual(socket.offsets('c'), [1, 2]);
});
