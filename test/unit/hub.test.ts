import assert from 'node:assert/strict';
import { test } from 'node:test';
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
