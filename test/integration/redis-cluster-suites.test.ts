import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from 'ioredis';
import { pack } from 'msgpackr';
import { ClusterKeys } from '../../src/broker/cluster/cluster-keys';
import { keySlot } from '../../src/broker/cluster/key-slot';
import { evenSlotTags } from '../../src/broker/cluster/partition-tags';
import { Publisher } from '../../src/publisher/publisher';
import { deliverySuite } from '../helpers/delivery-suite';
import { TestRedisCluster } from '../helpers/redis-cluster';
import { recoverySuite } from '../helpers/recovery-suite';
import { startReadyWith } from '../helpers/server-process';
import { TestClient } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

// Servers are started ready (the shard probes went round), so the first subscribe has a position.
// One cluster (3 masters + 3 replicas) for both suites: each starts its own server on it.
let cluster: TestRedisCluster;
before(async () => {
  cluster = await TestRedisCluster.start();
});
after(async () => {
  await cluster.stop();
});

const clusterArgs = (): string[] => ['--port', '0', '--host', '127.0.0.1', '--redis-cluster-nodes', cluster.startupNodes.map((n) => `${n.host}:${n.port}`).join(',')];

// The delivery suite publishes over WebSocket: client publishing is off by default, so it is enabled here.
deliverySuite('redis cluster broker', () =>
  startReadyWith([...clusterArgs(), '--max-message-size', '4096', '--max-subscriptions-per-connection', '8', '--history-size', '0', '--client-publish', '*']),
);
recoverySuite('redis cluster broker', (args) => startReadyWith([...clusterArgs(), '--redis-prefix', 'rec:', ...args]));

test('backends on a cluster: the Publisher (history script, offsets) and a raw SPUBLISH on the documented shard channel', { timeout: 60_000 }, async () => {
  const server = await startReadyWith([...clusterArgs(), '--redis-cluster-partitions', '8']);
  const client = await TestClient.connect(server.wsUrl('?channels=pub:1,raw:1'));
  const publisher = new Publisher({ redisClusterNodes: cluster.startupNodes.map((n) => `${n.host}:${n.port}`), redisClusterPartitions: 8 });
  const raw = new Cluster(cluster.startupNodes);
  try {
    const { position: first } = await publisher.publish('pub:1', 'one');
    assert.equal(first?.offset, 1);
    assert.deepEqual((await publisher.publish('pub:1', Buffer.from('two'))).position, { offset: 2, epoch: first!.epoch });
    // An idempotency key: published once, the repeat answers the first position; its key is on the channel's slot.
    const keyed = await publisher.publish('pub:1', 'three', { idempotencyKey: 'evt-3' });
    assert.deepEqual(await publisher.publish('pub:1', 'three again', { idempotencyKey: 'evt-3' }), { position: keyed.position, repeated: true });
    const keys = new ClusterKeys('bc:', evenSlotTags(8));
    assert.equal(await raw.get(keys.idempotency('pub:1', 'evt-3')), `3:${first!.epoch}`);
    assert.equal(keySlot(keys.idempotency('pub:1', 'evt-3')), keys.slotOf('pub:1'));
    const got = await client.waitPublications(3, 'pub:1');
    assert.deepEqual(got.map((p) => [p.offset, p.data.toString()]), [[1, 'one'], [2, 'two'], [3, 'three']]);
    // What a PHP backend does: the tag of the channel's partition, then SPUBLISH of [1, data].
    assert.match(keys.shardChannel('raw:1'), /^bc:\{[0-9a-z]+\}raw:1$/);
    await raw.spublish(keys.shardChannel('raw:1'), pack([1, 'hello']));
    assert.deepEqual((await client.waitPublications(1, 'raw:1'))[0], { channel: 'raw:1', offset: null, data: 'hello' });
  } finally {
    await publisher.close();
    raw.disconnect();
    await client.close();
    await server.stop();
  }
});

test('one sharded subscriber connection per master, never per channel; one SSUBSCRIBE per slot', { timeout: 60_000 }, async () => {
  const server = await startReadyWith([...clusterArgs(), '--redis-cluster-partitions', '8', '--redis-prefix', 'per:']);
  const keys = new ClusterKeys('per:', evenSlotTags(8));
  const channels = Array.from({ length: 40 }, (_, i) => `many:${i}`);
  const slots = new Set(channels.map((c) => keys.slotOf(c)));
  const masters = (await cluster.shards()).filter((s) => s.ranges.length > 0).map((s) => s.master.port);
  const calls = async (): Promise<number> => {
    let total = 0;
    for (const port of masters) total += Number(/cmdstat_ssubscribe:calls=(\d+)/.exec(String(await cluster.command(port, 'INFO', 'commandstats')))?.[1] ?? 0);
    return total;
  };
  const before = await calls();
  const client = await TestClient.connect(server.wsUrl(`?channels=${channels.join(',')}`));
  try {
    assert.equal((await calls()) - before, slots.size, `${channels.length} channels in ${slots.size} slots: one SSUBSCRIBE per slot`);
    for (const port of masters) {
      const list = String(await cluster.command(port, 'CLIENT', 'LIST'));
      const subscribers = list.split('\n').filter((line) => line.includes('name=ioredis-cluster(ssubscriber):broadcaster ') && /ssub=[1-9]/.test(line));
      assert.equal(subscribers.length, 1, `master ${port}: one subscriber connection of this server`);
    }
  } finally {
    await client.close();
    await server.stop();
  }
});

test('presence on a cluster: a client on one process is listed and counted by the other', { timeout: 60_000 }, async () => {
  const args = [...clusterArgs(), '--presence-namespaces', 'pc:'];
  const [a, b] = [await startReadyWith(args), await startReadyWith(args)];
  const client = await TestClient.connect(a.wsUrl('?channels=pc:1'));
  try {
    const counts = async (): Promise<unknown> => (await fetch(`${b.http}/v1/channels/pc:1/presence/counts`)).json();
    await waitFor('the other process to count the client', async () => ((await counts()) as { clients: number }).clients === 1, 10_000);
    assert.deepEqual(await counts(), { channel: 'pc:1', clients: 1, users: 0 });
    await client.close();
    await waitFor('the leave to reach the other process', async () => ((await counts()) as { clients: number }).clients === 0, 10_000);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});
