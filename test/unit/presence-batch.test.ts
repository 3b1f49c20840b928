import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/log/logger';
import { MemoryPresenceSpace, MemoryPresenceStore } from '../../src/presence/memory-presence-store';
import { PresenceBatch } from '../../src/presence/presence-batch';
import { LISTENER_TOPIC_PREFIX, PresenceService } from '../../src/presence/presence-service';
import type { PresenceEntry } from '../../src/presence/presence-store';

const e = (client: string): PresenceEntry => ({ client, user: `u-${client}`, info: null });

test('a leave cancels an unwritten join of the same client and a join cancels an unwritten leave', () => {
  const batch = new PresenceBatch();
  batch.join('c', e('1'));
  batch.leave('c', '1');
  batch.leave('c', '2');
  batch.join('c', e('2'));
  batch.join('c', e('3'));
  batch.leave('d', '4');
  const taken = batch.take();
  assert.deepEqual([...taken.keys()], ['c', 'd']);
  assert.deepEqual([...taken.get('c')!.joins.keys()], ['3']);
  assert.deepEqual([...taken.get('c')!.leaves], []);
  assert.deepEqual([...taken.get('d')!.leaves], ['4']);
  assert.ok(batch.empty);
});

test('changes put back after a failed write come before the ones gathered since', () => {
  const batch = new PresenceBatch();
  batch.join('c', e('1'));
  const failed = batch.take();
  batch.leave('c', '1');
  batch.join('c', e('2'));
  batch.restore(failed);
  const taken = batch.take();
  assert.deepEqual([...taken.get('c')!.joins.keys()], ['2'], 'the join that never reached the store and its leave cancel out');
  assert.deepEqual([...taken.get('c')!.leaves], []);
});

test('a process whose heartbeat came after its ttl writes its entries again', async () => {
  const space = new MemoryPresenceSpace();
  const store = new MemoryPresenceStore(200, space);
  const other = new MemoryPresenceStore(200, space);
  const service = new PresenceService(store, ['chat:'], { publish: () => true }, createLogger('silent'), 200);
  await service.join('chat:1', e('1'));
  await service.heartbeat();
  assert.deepEqual(await other.list('chat:1'), [e('1')]);
  // No heartbeat for longer than the ttl (the timer is not started): another process expires the entry.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(await other.list('chat:1'), []);
  await service.heartbeat();
  assert.deepEqual(await service.list('chat:1'), [e('1')], 'rewritten after the late heartbeat');
  service.leave('chat:1', '1');
  assert.deepEqual(await service.list('chat:1'), []);
  await service.stop();
  await other.close();
});

test('1,000 joins and 1,000 leaves within a tick become one store write per channel and one frame per listener topic', async () => {
  const store = new MemoryPresenceStore(10_000, new MemoryPresenceSpace());
  const applied: Array<[string, number, number]> = [];
  const apply = store.apply.bind(store);
  store.apply = (channel, joins, leaves) => {
    applied.push([channel, joins.length, leaves.length]);
    return apply(channel, joins, leaves);
  };
  const published: string[] = [];
  const service = new PresenceService(store, ['chat:'], { publish: (topic) => published.push(topic) > 0 }, createLogger('silent'), 10_000);
  assert.equal(service.covers('chat:1'), true);
  assert.equal(service.covers('news'), false);
  await service.listen('chat:1');
  const before: Promise<void>[] = [];
  for (let i = 0; i < 1000; i++) before.push(service.join('chat:1', e(`old${i}`)));
  await Promise.all(before);
  applied.length = 0;
  await new Promise((resolve) => setImmediate(resolve));
  published.length = 0;
  // A mass reconnect: every old client leaves and a new one joins, within one tick.
  const written: Promise<void>[] = [];
  for (let i = 0; i < 1000; i++) {
    service.leave('chat:1', `old${i}`);
    written.push(service.join('chat:1', e(`new${i}`)));
  }
  await Promise.all(written);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(applied, [['chat:1', 1000, 1000]]);
  assert.deepEqual(published, [`${LISTENER_TOPIC_PREFIX}chat:1`]);
  assert.deepEqual(await service.counts('chat:1'), { clients: 1000, users: 1000 });
  await service.stop();
});
