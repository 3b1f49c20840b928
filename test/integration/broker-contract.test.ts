import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { unpack } from 'msgpackr';
import type { Broker } from '../../src/broker/broker';
import { MemoryBroker } from '../../src/broker/memory-broker';
import { HistoryPolicies } from '../../src/config/history-policy';
import { TestRedisCluster } from '../helpers/redis-cluster';
import { testClusterBroker, testRedisBroker } from '../helpers/test-brokers';
import { TestRedis } from '../helpers/redis-server';
import { sleep, waitFor } from '../helpers/wait';

type Received = Array<[string, Buffer]>;

/** Channels under `h:` keep 5 publications for 60 s; others keep none. */
const policies = new HistoryPolicies({ historySize: 0, historyTtl: 60, historyNamespaces: 'h:=5/60' });

/** The contract every broker implementation keeps, run against each one; `create` takes the idempotency ttl in seconds (default 300). */
function brokerContract(name: string, create: (idempotencyTtl?: number) => Broker): void {
  describe(`broker contract: ${name}`, { timeout: 240_000 }, () => {
    let broker: Broker;
    const received: Received = [];
    const states: boolean[] = [];
    const on = (channel: string) => received.filter(([c]) => c === channel).map(([, b]) => unpack(b) as unknown[]);

    before(async () => {
      broker = create();
      broker.onMessage((channel, envelope) => received.push([channel, Buffer.from(envelope)]));
      broker.onState((ready) => states.push(ready));
      await broker.start();
      await waitFor(`${name} ready`, () => broker.isReady());
    });
    after(async () => {
      await broker.close();
    });

    test('reports readiness', { timeout: 60_000 }, () => {
      assert.equal(broker.readinessReason(), 'ready');
      assert.equal(states.at(-1), true);
    });

    test('without history: a publish after subscribe resolved arrives as [1, data], in order', { timeout: 60_000 }, async () => {
      await broker.subscribe('c:1');
      const payloads = [Buffer.from([0x92, 1, 0xc4, 0]), Buffer.alloc(70_000, 9), 'text'];
      for (const p of payloads) assert.deepEqual(await broker.publish('c:1', p), { position: null, repeated: false });
      await waitFor('3 messages', () => on('c:1').length === 3);
      assert.deepEqual(on('c:1'), payloads.map((p) => [1, p]));
      assert.equal(await broker.history('c:1', 0, 10), null);
    });

    test('channels not subscribed are not delivered; unsubscribe stops delivery', { timeout: 60_000 }, async () => {
      await broker.subscribe('c:2');
      await broker.subscribe('c:3');
      broker.unsubscribe('c:2');
      await new Promise((resolve) => setImmediate(resolve));
      await broker.publish('c:2', 'no');
      await broker.publish('c:none', 'no');
      await broker.publish('c:3', 'sentinel');
      await waitFor('sentinel', () => on('c:3').length === 1);
      assert.equal(on('c:2').length + on('c:none').length, 0);
    });

    test('subscribe and unsubscribe are idempotent and tracked', { timeout: 60_000 }, async () => {
      await broker.subscribe('c:4');
      await broker.subscribe('c:4');
      assert.ok(broker.subscribedChannels().has('c:4'));
      broker.unsubscribe('c:4');
      broker.unsubscribe('c:4');
      assert.equal(broker.subscribedChannels().has('c:4'), false);
    });

    test('with history: consecutive offsets in one epoch, carried by the envelopes', { timeout: 60_000 }, async () => {
      await broker.subscribe('h:1');
      const positions = [];
      for (const data of ['a', 'b', 'c']) positions.push((await broker.publish('h:1', data)).position);
      const epoch = positions[0]!.epoch;
      assert.match(epoch, /^[A-Za-z0-9_-]{12}$/);
      assert.deepEqual(positions, [1, 2, 3].map((offset) => ({ offset, epoch })));
      await waitFor('3 messages', () => on('h:1').length === 3);
      const envelopes = on('h:1');
      assert.deepEqual(envelopes.map((e) => e.slice(0, 4)), [[1, 'a', 1, epoch], [1, 'b', 2, epoch], [1, 'c', 3, epoch]]);
      // The fifth element is when the broker stored it (ms since 1970, its clock).
      for (const e of envelopes) assert.ok(Math.abs(Number(e[4]) - Date.now()) < 60_000, `publishedAt ${e[4]}`);
    });

    test('history returns publications after an offset, limited, oldest first, trimmed to the size', { timeout: 60_000 }, async () => {
      for (let i = 1; i <= 8; i++) await broker.publish('h:2', `m${i}`);
      const all = await broker.history('h:2', 0, 100);
      assert.ok(all !== null);
      assert.equal(all.top, 8);
      assert.deepEqual(all.publications.map((p) => p.offset), [4, 5, 6, 7, 8], 'the last 5 are kept');
      assert.deepEqual(all.publications.map((p) => (unpack(p.envelope) as unknown[])[1]), ['m4', 'm5', 'm6', 'm7', 'm8']);
      const page = await broker.history('h:2', 5, 2);
      assert.deepEqual(page!.publications.map((p) => p.offset), [6, 7]);
      const none = await broker.history('h:2', 8, 10);
      assert.deepEqual([none!.top, none!.publications.length, none!.epoch], [8, 0, all.epoch]);
    });

    test('a channel never published has a position: offset 0 and an epoch that publications keep', { timeout: 60_000 }, async () => {
      const empty = await broker.history('h:3', 0, 10);
      assert.deepEqual([empty!.top, empty!.publications], [0, []]);
      const first = await broker.publish('h:3', 'x');
      assert.deepEqual(first, { position: { offset: 1, epoch: empty!.epoch }, repeated: false });
    });

    test('publishMany: one call, consecutive offsets, each stored and delivered with its own, in order', { timeout: 60_000 }, async () => {
      await broker.subscribe('h:4');
      const { position: first } = await broker.publish('h:4', 'a');
      const results = await broker.publishMany('h:4', ['b', Buffer.from([1, 2]), 'd']);
      assert.deepEqual(
        results,
        [2, 3, 4].map((offset) => ({ position: { offset, epoch: first!.epoch }, repeated: false })),
        'one result per item',
      );
      await waitFor('4 messages', () => on('h:4').length === 4);
      assert.deepEqual(on('h:4').map((e) => e.slice(0, 4)), [
        [1, 'a', 1, first!.epoch],
        [1, 'b', 2, first!.epoch],
        [1, Buffer.from([1, 2]), 3, first!.epoch],
        [1, 'd', 4, first!.epoch],
      ]);
      const page = await broker.history('h:4', 1, 10);
      assert.deepEqual(page!.publications.map((p) => (unpack(p.envelope) as unknown[]).slice(1, 3)), [['b', 2], [Buffer.from([1, 2]), 3], ['d', 4]]);
      // trimmed to the history size like single publishes
      await broker.publishMany('h:4', ['e', 'f', 'g']);
      const trimmed = await broker.history('h:4', 0, 100);
      assert.deepEqual(trimmed!.publications.map((p) => p.offset), [3, 4, 5, 6, 7]);
    });

    test('publishMany without history: every item arrives as [1, data], in order, each with a null position', { timeout: 60_000 }, async () => {
      await broker.subscribe('c:5');
      assert.deepEqual(await broker.publishMany('c:5', ['x', 'y', 'z']), Array(3).fill({ position: null, repeated: false }));
      await waitFor('3 messages', () => on('c:5').length === 3);
      assert.deepEqual(on('c:5'), [[1, 'x'], [1, 'y'], [1, 'z']]);
    });

    test('idempotency key: the same key twice on a channel is one publication; the repeat answers its position', { timeout: 60_000 }, async () => {
      await broker.subscribe('h:5');
      const first = await broker.publish('h:5', 'a', { idempotencyKey: 'order-1' });
      assert.equal(first.repeated, false);
      assert.equal(first.position?.offset, 1);
      const again = await broker.publish('h:5', 'b', { idempotencyKey: 'order-1' });
      assert.deepEqual(again, { position: first.position, repeated: true }, 'the first result, flagged');
      // published at the same time: still one (atomic with the publication)
      const racing = await Promise.all([broker.publish('h:5', 'c', { idempotencyKey: 'order-2' }), broker.publish('h:5', 'd', { idempotencyKey: 'order-2' })]);
      assert.deepEqual(
        racing.map((r) => [r.position?.offset, r.repeated]),
        [
          [2, false],
          [2, true],
        ],
      );
      await broker.publish('h:5', 'sentinel');
      await waitFor('the sentinel', () => on('h:5').length === 3);
      assert.deepEqual(
        on('h:5').map((e) => e.slice(1, 3)),
        [
          ['a', 1],
          ['c', 2],
          ['sentinel', 3],
        ],
        'repeats are neither stored nor fanned out',
      );
      const page = await broker.history('h:5', 0, 10);
      assert.deepEqual(page!.publications.map((p) => (unpack(p.envelope) as unknown[])[1]), ['a', 'c', 'sentinel']);
    });

    test('idempotency key: the same key on two channels is two publications', { timeout: 60_000 }, async () => {
      const one = await broker.publish('h:6', 'x', { idempotencyKey: 'shared-key' });
      const other = await broker.publish('h:7', 'y', { idempotencyKey: 'shared-key' });
      assert.deepEqual(
        [one, other].map((r) => [r.position?.offset, r.repeated]),
        [
          [1, false],
          [1, false],
        ],
      );
    });

    test('idempotency key on a channel without history: published once, the repeat has a null position', { timeout: 60_000 }, async () => {
      await broker.subscribe('c:6');
      assert.deepEqual(await broker.publish('c:6', 'x', { idempotencyKey: 'k/1+a=' }), { position: null, repeated: false });
      assert.deepEqual(await broker.publish('c:6', 'y', { idempotencyKey: 'k/1+a=' }), { position: null, repeated: true });
      await broker.publish('c:6', 'sentinel');
      await waitFor('the sentinel', () => on('c:6').length === 2);
      assert.deepEqual(on('c:6'), [
        [1, 'x'],
        [1, 'sentinel'],
      ]);
    });

    test('publishMany with idempotency keys: repeats within and across calls answer the first result, the others get consecutive offsets', { timeout: 60_000 }, async () => {
      await broker.subscribe('h:8');
      const firstCall = await broker.publishMany('h:8', ['a', 'b', 'a-again', 'c'], [{ idempotencyKey: 'x' }, undefined, { idempotencyKey: 'x' }, { idempotencyKey: 'y' }]);
      const epoch = firstCall[0]!.position!.epoch;
      const at = (offset: number, repeated: boolean) => ({ position: { offset, epoch }, repeated });
      assert.deepEqual(firstCall, [at(1, false), at(2, false), at(1, true), at(3, false)]);
      const secondCall = await broker.publishMany('h:8', ['c-again', 'd'], [{ idempotencyKey: 'y' }, { idempotencyKey: 'z' }]);
      assert.deepEqual(secondCall, [at(3, true), at(4, false)]);
      await waitFor('4 messages', () => on('h:8').length === 4);
      assert.deepEqual(
        on('h:8').map((e) => e.slice(1, 3)),
        [
          ['a', 1],
          ['b', 2],
          ['c', 3],
          ['d', 4],
        ],
      );
      // without history
      await broker.subscribe('c:7');
      const plain = await broker.publishMany('c:7', ['p', 'q', 'p-again'], [{ idempotencyKey: 'p' }, undefined, { idempotencyKey: 'p' }]);
      assert.deepEqual(
        plain.map((r) => r.repeated),
        [false, false, true],
      );
      await waitFor('2 messages', () => on('c:7').length === 2);
      assert.deepEqual(on('c:7'), [
        [1, 'p'],
        [1, 'q'],
      ]);
    });

    test('idempotency key: after the ttl the same key publishes again', { timeout: 60_000 }, async () => {
      const short = create(1);
      await short.start();
      try {
        await waitFor('ready', () => short.isReady(), 30_000);
        const first = await short.publish('h:9', 'a', { idempotencyKey: 'once' });
        const answered = Date.now();
        assert.equal((await short.publish('h:9', 'b', { idempotencyKey: 'once' })).repeated, true);
        // The key was stored before the answer: 1 s (the ttl) after it, it has expired.
        await sleep(answered + 1050 - Date.now());
        const later = await short.publish('h:9', 'c', { idempotencyKey: 'once' });
        assert.deepEqual(later, { position: { offset: first.position!.offset + 1, epoch: first.position!.epoch }, repeated: false });
      } finally {
        await short.close();
      }
    });

    test('after close: not ready and publish rejects', { timeout: 60_000 }, async () => {
      const other = create();
      await other.start();
      await waitFor('ready', () => other.isReady());
      await other.close();
      assert.equal(other.isReady(), false);
      assert.match(other.readinessReason(), /closed/);
      await assert.rejects(other.publish('c:1', 'x'));
      await assert.rejects(other.publishMany('h:1', ['x']));
    });
  });
}

let redis: TestRedis;
let cluster: TestRedisCluster;
before(async () => {
  [redis, cluster] = await Promise.all([TestRedis.start(), TestRedisCluster.start()]);
});
after(async () => {
  await Promise.all([redis.kill(), cluster.stop()]);
});

brokerContract('memory', (idempotencyTtl) => new MemoryBroker(policies, 3600, 0, idempotencyTtl));
brokerContract('memory, batched every 5 ms', (idempotencyTtl) => new MemoryBroker(policies, 3600, 5, idempotencyTtl));
brokerContract('redis', (idempotencyTtl) => testRedisBroker(redis.url, 'contract:', policies, { idempotencyTtl }));
brokerContract('redis cluster (3 masters + 3 replicas, 16 partitions)', (idempotencyTtl) => testClusterBroker(cluster, 'contract:', policies, { idempotencyTtl }));
