import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ClusterKeys } from '../../src/broker/cluster/cluster-keys';
import { keySlot } from '../../src/broker/cluster/key-slot';
import { evenSlotTags, masterAlignedTags, partitionOf, partitionsByMaster, slotTags } from '../../src/broker/cluster/partition-tags';
import { SlotMap } from '../../src/broker/cluster/slot-map';

const CHANNEL = fc.stringMatching(/^[A-Za-z0-9_.:@=-]{1,64}$/);

/** Fewest and most partitions any master of `map` serves with `tags`. */
function spread(tags: readonly string[], map: SlotMap): { min: number; max: number; idle: number } {
  const counts = partitionsByMaster(tags, map).map((list) => list.length);
  return { min: Math.min(...counts), max: Math.max(...counts), idle: counts.filter((n) => n === 0).length };
}

test('key slots are Redis Cluster CRC16 slots, honouring the first non-empty hash tag', () => {
  assert.equal(keySlot('123456789'), 0x31c3 & 0x3fff); // the CRC16/XMODEM check value
  assert.equal(keySlot('foo'), 12182);
  assert.equal(keySlot('{user1000}.following'), keySlot('{user1000}.followers'));
  assert.equal(keySlot('{user1000}.following'), keySlot('user1000'));
  assert.equal(keySlot('{}foo'), keySlot(Buffer.from('{}foo')));
  assert.notEqual(keySlot('{}foo'), keySlot('foo'), 'an empty tag hashes the whole name');
});

test('every slot has a tag, found by a deterministic search', () => {
  const table = slotTags();
  assert.equal(table.length, 16384);
  table.forEach((tag, slot) => {
    assert.equal(keySlot(`{${tag}}`), slot);
  });
  assert.ok(table.every((tag) => tag.length <= 4));
});

test('evenlySplit gives the ranges redis-cli --cluster create assigns', () => {
  assert.deepEqual(
    SlotMap.evenlySplit(3).masters.map((m) => m.ranges),
    [[[0, 5460]], [[5461, 10922]], [[10923, 16383]]],
  );
  const sixteen = SlotMap.evenlySplit(16);
  assert.deepEqual(sixteen.masters[0]?.ranges, [[0, 1023]]);
  assert.deepEqual(sixteen.masters[15]?.ranges, [[15360, 16383]]);
  assert.ok(sixteen.coversAllSlots());
});

for (const masters of [3, 16]) {
  for (const partitions of [16, 64, 128, 1024]) {
    test(`${partitions} partitions over ${masters} evenly split masters: at most one partition apart`, () => {
      const map = SlotMap.evenlySplit(masters);
      const floor = Math.floor(partitions / masters);
      const ceil = Math.ceil(partitions / masters);
      for (const tags of [evenSlotTags(partitions), masterAlignedTags(partitions, map)]) {
        assert.equal(new Set(tags.map((t) => keySlot(`{${t}}`))).size, partitions, 'one slot per partition');
        const { min, max } = spread(tags, map);
        assert.deepEqual([min, max], [floor, ceil]);
      }
    });
  }
}

test('plain {0}..{N-1} tags (centrifuge issue 554) leave masters of a 16-master cluster idle; ours do not', () => {
  const map = SlotMap.evenlySplit(16);
  const plain = spread(
    Array.from({ length: 16 }, (_, p) => String(p)),
    map,
  );
  assert.ok(plain.idle >= 1 && plain.max >= 3, `plain tags: ${JSON.stringify(plain)}`);
  assert.deepEqual(spread(evenSlotTags(16), map), { min: 1, max: 1, idle: 0 });
  const plain64 = spread(
    Array.from({ length: 64 }, (_, p) => String(p)),
    map,
  );
  assert.ok(plain64.max - plain64.min >= 4, `plain tags, 64 partitions: ${JSON.stringify(plain64)}`);
});

test('master-aligned tags put partition p on master p % masters, whatever the ranges', () => {
  // Uneven and fragmented: master 0 serves two ranges, master 2 only a small one.
  const map = new SlotMap([
    {
      id: 'a',
      host: 'h',
      port: 1,
      ranges: [
        [0, 9000],
        [15000, 15999],
      ],
    },
    { id: 'b', host: 'h', port: 2, ranges: [[9001, 14999]] },
    { id: 'c', host: 'h', port: 3, ranges: [[16000, 16383]] },
  ]);
  const tags = masterAlignedTags(100, map);
  tags.forEach((tag, p) => {
    assert.equal(map.masterIndexOf(keySlot(`{${tag}}`)), p % 3, `partition ${p}`);
  });
  assert.deepEqual(
    partitionsByMaster(tags, map).map((l) => l.length),
    [34, 33, 33],
  );
  assert.throws(() => masterAlignedTags(2000, map), /fewer partitions/);
});

test('all names of one channel share one slot, and the shard channel maps back to the channel', () => {
  const keys = new ClusterKeys('bc:', evenSlotTags(64));
  fc.assert(
    fc.property(CHANNEL, (channel) => {
      const slot = keys.slotOf(channel);
      assert.equal(keySlot(keys.stream(channel)), slot);
      assert.equal(keySlot(keys.meta(channel)), slot);
      assert.equal(keySlot(keys.shardChannel(channel)), slot);
      assert.equal(keySlot(`{${evenSlotTags(64)[keys.partitionOf(channel)] as string}}`), slot);
      assert.equal(keys.channelOf(keys.shardChannel(channel)), channel);
      assert.equal(keys.channelOf(Buffer.from(keys.shardChannel(channel))), channel);
    }),
    { numRuns: 2000 },
  );
  assert.equal(keys.stream('news'), `bc:{${evenSlotTags(64)[partitionOf('news', 64)] as string}}h:news`);
  assert.equal(keys.channelOf('bc:news'), null);
  assert.equal(keys.channelOf('other:{0}news'), null);
  assert.equal(keys.channelOf('bc:{zz}news'), null, 'a tag that is not the channel partition tag');
});

test('channels spread over partitions', () => {
  const counts = new Array<number>(16).fill(0);
  for (let i = 0; i < 16000; i++) counts[partitionOf(`chat:room-${i}`, 16)]! += 1;
  assert.ok(Math.min(...counts) > 800 && Math.max(...counts) < 1200, counts.join(','));
});

test('shard channels group by slot for one SSUBSCRIBE per slot', () => {
  const keys = new ClusterKeys('bc:', evenSlotTags(4));
  const channels = Array.from({ length: 100 }, (_, i) => `c${i}`);
  const bySlot = keys.shardChannelsBySlot(channels);
  assert.ok(bySlot.size <= 4);
  assert.equal([...bySlot.values()].flat().length, 100);
  for (const [slot, names] of bySlot) for (const name of names) assert.equal(keySlot(name), slot);
});

test('a prefix with braces, an empty tag list or a braced tag is refused with the fix named', () => {
  assert.throws(() => new ClusterKeys('bc{x}:', ['a']), /choose a prefix without braces/);
  assert.throws(() => new ClusterKeys('bc:', []), /at least one partition tag/);
  assert.throws(() => new ClusterKeys('bc:', ['a}']), /brace-free/);
  assert.throws(() => evenSlotTags(0), /integer 1-16384/);
  assert.throws(() => evenSlotTags(16385), /integer 1-16384/);
});

test('slot maps read CLUSTER SLOTS and CLUSTER SHARDS replies (RESP2 shapes, Redis 7.0)', () => {
  const id = (c: string): string => c.repeat(40);
  const slots = SlotMap.fromClusterSlots([
    [10923, 16383, ['127.0.0.1', 7002, id('c'), []], ['127.0.0.1', 7005, id('f'), []]],
    [0, 5460, ['127.0.0.1', 7000, id('a'), []]],
    [5461, 10921, ['127.0.0.1', 7001, id('b'), []]],
    [10922, 10922, ['127.0.0.1', 7000, id('a'), []]],
  ]);
  assert.deepEqual(
    slots.masters.map((m) => [m.port, m.ranges]),
    [
      [
        7000,
        [
          [0, 5460],
          [10922, 10922],
        ],
      ],
      [7001, [[5461, 10921]]],
      [7002, [[10923, 16383]]],
    ],
  );
  assert.equal(slots.masterOf(10922)?.id, id('a'));
  assert.ok(slots.coversAllSlots());
  const node = (c: string, port: number, role: string): unknown[] => [
    'id',
    id(c),
    'port',
    port,
    'ip',
    '127.0.0.1',
    'endpoint',
    '127.0.0.1',
    'role',
    role,
    'replication-offset',
    0,
    'health',
    'online',
  ];
  const shards = SlotMap.fromClusterShards([
    ['slots', [5461, 10922], 'nodes', [node('e', 7004, 'replica'), node('b', 7001, 'master')]],
    ['slots', [0, 5460, 10923, 16383], 'nodes', [node('a', 7000, 'master')]],
    ['slots', [], 'nodes', [node('c', 7002, 'master')]],
  ]);
  assert.deepEqual(
    shards.masters.map((m) => [m.id, m.port, m.ranges]),
    [
      [
        id('a'),
        7000,
        [
          [0, 5460],
          [10923, 16383],
        ],
      ],
      [id('b'), 7001, [[5461, 10922]]],
    ],
  );
  assert.throws(() => SlotMap.fromClusterShards('x'), /must be an array/);
  assert.throws(() => new SlotMap([{ id: 'x', host: 'h', port: 1, ranges: [[5, 16384]] }]), /slots are 0-16383/);
});
