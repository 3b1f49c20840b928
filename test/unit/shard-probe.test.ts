import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster } from 'ioredis';
import { ClusterKeys } from '../../src/broker/cluster/cluster-keys';
import { keySlot } from '../../src/broker/cluster/key-slot';
import { evenSlotTags } from '../../src/broker/cluster/partition-tags';
import { ShardProbe } from '../../src/broker/cluster/shard-probe';
import { sleep } from '../helpers/wait';

/** A stand-in for ioredis Cluster: two masters split the slots; SPUBLISH answers as told. */
function fakeCluster() {
  const sent: Array<{ channel: string; token: string; owner: string }> = [];
  const fake = {
    status: 'ready',
    slots: Array.from({ length: 16384 }, (_, slot) => [slot < 8192 ? 'a:1' : 'b:2']),
    refreshes: 0,
    answer: (_owner: string): Promise<number> => Promise.resolve(1),
    spublish(channel: string, token: string): Promise<number> {
      const owner = fake.slots[keySlot(channel)]![0]!;
      sent.push({ channel, token, owner });
      return fake.answer(owner);
    },
    refreshSlotsCache(): void {
      fake.refreshes++;
    },
  };
  return { fake, sent, cluster: fake as unknown as Cluster };
}

function setup(timeout = 60_000) {
  const { fake, sent, cluster } = fakeCluster();
  const changes: boolean[] = [];
  const stalls: string[] = [];
  const probe = new ShardProbe(
    cluster,
    new ClusterKeys('bc:', evenSlotTags(8)),
    60_000,
    timeout,
    () => changes.push(probe.healthy()),
    (owner) => stalls.push(owner),
  );
  const echo = (owner: string): void => {
    for (const s of sent.filter((x) => x.owner === owner)) probe.received(Buffer.from(s.token, 'latin1'));
  };
  return { fake, sent, probe, changes, stalls, echo };
}

test('probe channels: one per partition, in its slot, with a name no channel can have', () => {
  const { probe } = setup();
  const keys = new ClusterKeys('bc:', evenSlotTags(8));
  assert.equal(probe.channels.length, 8);
  probe.channels.forEach((name, p) => {
    assert.match(name, /^bc:\{[0-9a-z]+\}#probe\//);
    assert.equal(keySlot(name), keySlot(keys.shardChannelIn(p, 'x')));
  });
});

test('healthy once every owner answered; a refused probe or a node error makes it unhealthy with the shard named', async () => {
  const { fake, sent, probe, echo } = setup();
  assert.equal(probe.healthy(), false);
  assert.match(probe.reason(), /not probed yet/);
  probe.probeNow();
  assert.deepEqual([...new Set(sent.map((s) => s.owner))].sort(), ['a:1', 'b:2'], 'one probe per owner');
  assert.equal(sent.length, 2);
  const round = probe.nextHealthyRound();
  echo('a:1');
  assert.equal(probe.healthy(), false, 'b:2 has not answered');
  echo('b:2');
  assert.equal(probe.healthy(), true);
  assert.equal(probe.reason(), 'ready');
  await round;

  probe.fail('b:2', 'ECONNREFUSED');
  assert.equal(probe.healthy(), false);
  assert.match(probe.reason(), /shard b:2 \(ECONNREFUSED\) unreachable/);
  fake.answer = (owner) => (owner === 'b:2' ? Promise.reject(new Error('Connection is closed.')) : Promise.resolve(1));
  sent.length = 0;
  probe.probeNow();
  await sleep(0);
  echo('a:1');
  assert.match(probe.reason(), /b:2 \(Connection is closed\.\)/);
  fake.answer = () => Promise.resolve(1);
  sent.length = 0;
  probe.probeNow();
  echo('b:2');
  echo('a:1');
  assert.equal(probe.healthy(), true, 'healthy again once the shard answers');
});

test('an unanswered probe past the timeout counts as a stall and asks for a fresh slot map; a new owner is probed', async () => {
  const { fake, sent, probe, stalls, echo } = setup(1);
  probe.probeNow();
  echo('a:1');
  echo('b:2');
  assert.equal(probe.healthy(), true);
  sent.length = 0;
  probe.probeNow();
  echo('a:1');
  await sleep(5);
  probe.probeNow();
  assert.deepEqual(stalls, ['b:2']);
  assert.equal(fake.refreshes, 1);
  assert.equal(probe.healthy(), false);
  // b:2's slots moved to c:3 (a promoted replica): b:2 is forgotten, c:3 must answer.
  fake.slots = fake.slots.map((owner) => (owner[0] === 'b:2' ? ['c:3'] : owner));
  sent.length = 0;
  probe.probeNow();
  assert.equal(probe.healthy(), false, 'c:3 not probed yet');
  echo('a:1');
  echo('c:3');
  assert.equal(probe.healthy(), true);
  assert.doesNotMatch(probe.reason(), /b:2/);
});

test('0 receivers (our subscriber not subscribed yet) leaves the shard unhealthy and probes again next tick', async () => {
  const { fake, sent, probe, echo } = setup();
  fake.answer = () => Promise.resolve(0);
  probe.probeNow();
  await sleep(0);
  assert.equal(probe.healthy(), false);
  fake.answer = () => Promise.resolve(1);
  sent.length = 0;
  probe.probeNow();
  assert.equal(sent.length, 2, 'both probed again');
  echo('a:1');
  echo('b:2');
  assert.equal(probe.healthy(), true);
});
