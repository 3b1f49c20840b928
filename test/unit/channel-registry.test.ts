import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelRegistry } from '../../src/hub/channel-registry';

/** A registry over a recording broker ("+c" subscribe, "-c" unsubscribe) and topic counts the test sets. */
function setup() {
  const calls: string[] = [];
  const dropped: string[] = [];
  const topicCounts = new Map<string, number>();
  const registry = new ChannelRegistry(
    { numSubscribers: (channel) => topicCounts.get(String(channel)) ?? 0 },
    { subscribe: async (channel) => void calls.push(`+${channel}`), unsubscribe: (channel) => void calls.push(`-${channel}`) },
    (channel) => void dropped.push(channel),
  );
  return { calls, dropped, topicCounts, registry };
}

test('the broker is subscribed when a topic gets its first local subscriber and unsubscribed when it loses its last, once each', () => {
  const { calls, dropped, registry } = setup();
  registry.onTopicCount('c', 1, 0);
  assert.deepEqual(calls, ['+c']);
  registry.onTopicCount('c', 2, 1);
  registry.onTopicCount('c', 1, 2);
  assert.deepEqual(calls, ['+c'], 'joins and leaves while others stay change nothing');
  registry.onTopicCount('c', 0, 1);
  assert.deepEqual(calls, ['+c', '-c']);
  assert.deepEqual(dropped, ['c'], 'the hub is told to forget the channel');
});

test('holds are counted: the channel goes when its last hold is released and no socket is on its topic', async () => {
  const { calls, dropped, registry } = setup();
  await registry.hold(['c']);
  await registry.hold(['c']);
  assert.deepEqual(calls, ['+c', '+c'], 'each hold waits for the (idempotent) broker subscription');
  registry.release(['c']);
  registry.onTopicCount('c', 1, 0);
  registry.onTopicCount('c', 0, 1);
  assert.deepEqual(calls, ['+c', '+c', '+c'], 'one hold is left: a topic count of zero keeps the channel');
  registry.release(['c']);
  assert.deepEqual(calls.at(-1), '-c');
  assert.deepEqual(dropped, ['c']);
});

test('a release keeps a channel whose topic has subscribers; a release without a hold drops an unused channel', async () => {
  const { calls, topicCounts, registry } = setup();
  topicCounts.set('c', 1);
  await registry.hold(['c', 'd']);
  registry.release(['c', 'd']);
  assert.deepEqual(calls, ['+c', '+d', '-d']);
  registry.release(['e']);
  assert.deepEqual(calls.at(-1), '-e');
});
