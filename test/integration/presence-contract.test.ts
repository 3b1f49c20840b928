import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Redis, { Cluster } from 'ioredis';
import { keySlot } from '../../src/broker/cluster/key-slot';
import { MemoryPresenceSpace, MemoryPresenceStore } from '../../src/presence/memory-presence-store';
import { PresenceKeys } from '../../src/presence/presence-keys';
import type { PresenceEntry, PresenceStore } from '../../src/presence/presence-store';
import { RedisPresenceStore } from '../../src/presence/redis-presence-store';
import { TestRedisCluster } from '../helpers/redis-cluster';
import { TestRedis } from '../helpers/redis-server';
import { sleep, waitFor } from '../helpers/wait';

/** Entries of dead nodes expire this long after their last heartbeat, in these tests. */
const TTL = 600;

type Batch = { channel: string; joins: PresenceEntry[]; leaves: PresenceEntry[] };

const entry = (client: string, user: string | null, info: unknown = null): PresenceEntry => ({ client, user, info });
const byClient = (list: PresenceEntry[]) => [...list].sort((a, b) => a.client.localeCompare(b.client));

/** The contract every presence store keeps, on two nodes (two stores over one backend). */
function presenceContract(name: string, createPair: () => [PresenceStore, PresenceStore]): void {
  describe(`presence contract: ${name}`, { timeout: 120_000 }, () => {
    let a: PresenceStore;
    let b: PresenceStore;
    const seenByB: Batch[] = [];
    before(() => {
      [a, b] = createPair();
      b.onEvent((channel, joins, leaves) => seenByB.push({ channel, joins: [...joins], leaves: [...leaves] }));
    });
    after(async () => {
      await a.close();
      await b.close();
    });

    test('entries of both nodes are listed; counts are clients and distinct users, anonymous clients are no users', { timeout: 60_000 }, async () => {
      await a.apply('p:1', [entry('a1', 'ada', { name: 'Ada' }), entry('a2', 'ada'), entry('a3', null)], []);
      await b.apply('p:1', [entry('b1', 'bob')], []);
      assert.deepEqual(byClient(await b.list('p:1')), [entry('a1', 'ada', { name: 'Ada' }), entry('a2', 'ada'), entry('a3', null), entry('b1', 'bob')]);
      assert.deepEqual(await a.counts('p:1'), { clients: 4, users: 2 });
      assert.deepEqual(await a.counts('p:none'), { clients: 0, users: 0 });
      assert.deepEqual(await a.list('p:none'), []);
    });

    test('a leave removes the entry and its user once its last client left; a node cannot remove another node\'s entry', { timeout: 60_000 }, async () => {
      await a.apply('p:2', [entry('a1', 'ada'), entry('a2', 'ada')], []);
      await b.apply('p:2', [entry('b1', 'bob')], ['a1']);
      assert.deepEqual(await a.counts('p:2'), { clients: 3, users: 2 });
      await a.apply('p:2', [], ['a1']);
      assert.deepEqual(await a.counts('p:2'), { clients: 2, users: 2 });
      await a.apply('p:2', [], ['a2']);
      assert.deepEqual(await a.counts('p:2'), { clients: 1, users: 1 });
      assert.deepEqual(await a.list('p:2'), [entry('b1', 'bob')]);
    });

    test('a watcher receives the joins and leaves that took effect, as one batch per write; unwatch stops them', { timeout: 60_000 }, async () => {
      await b.watch('p:3');
      await a.apply('p:3', [entry('a1', 'ada'), entry('a2', null)], []);
      await a.apply('p:3', [entry('a1', 'ada')], ['a2', 'nobody']);
      await waitFor('two batches', () => seenByB.filter((e) => e.channel === 'p:3').length === 2);
      const batches = seenByB.filter((e) => e.channel === 'p:3');
      assert.deepEqual(byClient(batches[0]!.joins), [entry('a1', 'ada'), entry('a2', null)]);
      assert.deepEqual(batches[0]!.leaves, []);
      assert.deepEqual(batches[1], { channel: 'p:3', joins: [], leaves: [entry('a2', null)] }, 'a repeated join and an unknown leave have no effect');
      b.unwatch('p:3');
      await sleep(50);
      await a.apply('p:3', [entry('a3', 'cy')], []);
      await b.watch('p:3b');
      await a.apply('p:3b', [entry('z', 'z')], []);
      await waitFor('the sentinel batch', () => seenByB.some((e) => e.channel === 'p:3b'));
      assert.equal(seenByB.filter((e) => e.channel === 'p:3').length, 2, 'nothing after unwatch');
    });

    test('a node that stops its heartbeat loses its entries after the ttl; the living node\'s next write reports them as leaves', { timeout: 60_000 }, async () => {
      await b.watch('p:4');
      await a.apply('p:4', [entry('dead1', 'ada'), entry('dead2', 'eve')], []);
      await b.apply('p:4', [entry('alive', 'bob')], []);
      // b keeps beating, a is silent: a crashed process.
      const beat = setInterval(() => void b.heartbeat(['p:4']), TTL / 3);
      try {
        await waitFor('a\'s entries to expire', async () => (await b.counts('p:4')).clients === 1, TTL * 10);
        assert.deepEqual(await b.list('p:4'), [entry('alive', 'bob')]);
        assert.deepEqual(await b.counts('p:4'), { clients: 1, users: 1 });
        await waitFor('the leaves of the dead node', () => seenByB.some((e) => e.channel === 'p:4' && e.leaves.length === 2), TTL * 10);
        const leaves = seenByB.filter((e) => e.channel === 'p:4').flatMap((e) => e.leaves);
        assert.deepEqual(byClient(leaves), [entry('dead1', 'ada'), entry('dead2', 'eve')], 'each leave once');
      } finally {
        clearInterval(beat);
      }
    });

    test('a write or heartbeat tells a node whose deadline had lapsed (its entries may be gone); a live one is not told', { timeout: 60_000 }, async () => {
      assert.equal(await a.apply('p:6', [entry('late', 'ada')], []), true, 'a first write has no deadline before it');
      assert.equal(await a.apply('p:6', [], []), false);
      assert.deepEqual(await a.heartbeat(['p:6']), []);
      await sleep(TTL + 100);
      assert.deepEqual(await b.list('p:6'), [], 'seen as dead');
      assert.deepEqual(await a.heartbeat(['p:6']), ['p:6']);
      assert.equal(await a.apply('p:6', [entry('late', 'ada')], []), false, 'written again, alive');
      assert.deepEqual(await b.list('p:6'), [entry('late', 'ada')]);
    });

    test('heartbeats keep a node\'s entries past the ttl', { timeout: 60_000 }, async () => {
      await a.apply('p:5', [entry('kept', 'ada')], []);
      for (let i = 0; i < 6; i++) {
        await sleep(TTL / 3);
        await a.heartbeat(['p:5']);
      }
      assert.deepEqual(await b.list('p:5'), [entry('kept', 'ada')]);
    });
  });
}

let redis: TestRedis;
let cluster: TestRedisCluster;
before(async () => {
  redis = await TestRedis.start();
  cluster = await TestRedisCluster.start({ masters: 3, replicas: 0 });
});
after(async () => {
  await redis.kill();
  await cluster?.stop();
});

presenceContract('memory', () => {
  const space = new MemoryPresenceSpace();
  return [new MemoryPresenceStore(TTL, space), new MemoryPresenceStore(TTL, space)];
});
presenceContract('redis', () => {
  const store = () => new RedisPresenceStore({ command: new Redis(redis.url), subscriber: new Redis(redis.url), prefix: 'pc:', ttl: TTL });
  return [store(), store()];
});

presenceContract('redis cluster (3 masters)', () => {
  const store = () =>
    new RedisPresenceStore({
      command: new Cluster(cluster.startupNodes),
      subscriber: new Cluster(cluster.startupNodes, { shardedSubscribers: true }),
      prefix: 'pc:',
      ttl: TTL,
    });
  return [store(), store()];
});

test('every Redis name of a channel\'s presence hashes to one slot (Redis Cluster)', { timeout: 60_000 }, () => {
  const keys = new PresenceKeys('bc:');
  for (const channel of ['chat:1', 'chat:room-42', 'a']) {
    const names = [keys.clients(channel), keys.users(channel), keys.nodes(channel), `${keys.nodeSetBase(channel)}node1`, keys.events(channel)];
    assert.equal(new Set(names.map(keySlot)).size, 1, names.join(' '));
    assert.equal(keys.channelOfEvents(keys.events(channel)), channel);
  }
  assert.notEqual(keySlot(keys.clients('chat:1')), keySlot(keys.clients('chat:2')), 'channels spread over slots');
});
