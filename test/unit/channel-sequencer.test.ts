import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HistoryPage, HistoryReader } from '../../src/broker/broker';
import { createLogger } from '../../src/log/logger';
import { encodeData, encodeEnvelope, encodeSequencedEnvelope } from '../../src/protocol/envelope';
import { createStats } from '../../src/stats';
import { ChannelSequencer } from '../../src/hub/channel-sequencer';

const EPOCH = 'e1';

function envelope(offset: number, epoch = EPOCH): Buffer {
  return encodeSequencedEnvelope(encodeData(String(offset)), offset, epoch, 0);
}

/** A sequencer over a broker whose history reads the test answers by hand. */
function setup() {
  const reads: Array<{ since: number; limit: number; resolve(page: HistoryPage): void; reject(err: Error): void }> = [];
  const broker: HistoryReader = {
    history: (_channel, since, limit) => new Promise<HistoryPage>((resolve, reject) => reads.push({ since, limit, resolve, reject })),
  };
  const forwarded: Array<number | null> = [];
  const resyncs: string[] = [];
  const stats = createStats();
  const sequencer = new ChannelSequencer(
    broker,
    { forward: (_channel, item) => forwarded.push(item.view.offset), resync: (_channel, reason) => resyncs.push(reason) },
    stats,
    createLogger('silent'),
  );
  return { reads, forwarded, resyncs, stats, sequencer };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a failed history check after a reconnect keeps the publications that arrived meanwhile', async () => {
  const { reads, forwarded, resyncs, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(2));
  sequencer.verifyAll();
  sequencer.accept('c', envelope(3));
  assert.deepEqual(forwarded, [1, 2], 'held back while the check runs');
  reads[0]!.reject(new Error('the Redis connection dropped before answering'));
  await settle();
  assert.deepEqual(forwarded, [1, 2, 3]);
  assert.deepEqual(resyncs, []);
});

test('a history check after a reconnect counts a gap only when something was missing', async () => {
  const { reads, forwarded, stats, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.verifyAll();
  reads[0]!.resolve({ epoch: EPOCH, top: 1, publications: [] });
  await settle();
  assert.deepEqual([stats.gapsDetected, stats.gapsRepaired], [0, 0], 'nothing was missing');
  sequencer.verifyAll();
  reads[1]!.resolve({ epoch: EPOCH, top: 3, publications: [2, 3].map((offset) => ({ offset, envelope: envelope(offset) })) });
  await settle();
  assert.deepEqual(forwarded, [1, 2, 3]);
  assert.deepEqual([stats.gapsDetected, stats.gapsRepaired], [1, 1]);
});

const page = (top: number, offsets: number[], epoch = EPOCH): HistoryPage => ({
  epoch,
  top,
  publications: offsets.map((offset) => ({ offset, envelope: envelope(offset, epoch) })),
});

test('consecutive offsets pass straight through', () => {
  const { reads, forwarded, stats, sequencer } = setup();
  for (const offset of [1, 2, 3]) sequencer.accept('c', envelope(offset));
  assert.deepEqual(forwarded, [1, 2, 3]);
  assert.equal(reads.length, 0);
  assert.equal(stats.gapsDetected, 0);
});

test('a duplicate or older offset is dropped and counted', () => {
  const { forwarded, stats, sequencer } = setup();
  for (const offset of [1, 2, 2, 1, 3]) sequencer.accept('c', envelope(offset));
  assert.deepEqual(forwarded, [1, 2, 3]);
  assert.equal(stats.duplicatesDropped, 2);
});

test('a jump holds newer publications back, reads exactly the missing ones, then forwards all in order', async () => {
  const { reads, forwarded, resyncs, stats, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(4));
  sequencer.accept('c', envelope(5));
  assert.deepEqual(forwarded, [1], '4 and 5 wait for the repair');
  assert.equal(reads.length, 1);
  assert.deepEqual([reads[0]?.since, reads[0]?.limit], [1, 2], 'offsets 2 and 3 are read');
  assert.equal(stats.gapsDetected, 1);
  reads[0]?.resolve(page(5, [2, 3]));
  await settle();
  assert.deepEqual(forwarded, [1, 2, 3, 4, 5]);
  assert.deepEqual(resyncs, []);
  assert.equal(stats.gapsRepaired, 1);
  sequencer.accept('c', envelope(6));
  assert.deepEqual(forwarded.at(-1), 6, 'live again after the repair');
});

test('a gap history no longer holds is announced with a resync, and forwarding resumes after it', async () => {
  const { reads, forwarded, resyncs, stats, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(4));
  reads[0]?.resolve(page(4, [3, 4]));
  await settle();
  assert.deepEqual(resyncs, ['publications missed by this server are no longer in history']);
  assert.deepEqual(forwarded, [1, 4]);
  assert.deepEqual([stats.gapsRepaired, stats.resyncsSent], [0, 1]);
  sequencer.accept('c', envelope(5));
  assert.deepEqual(forwarded, [1, 4, 5]);
});

test('a failed repair read announces a resync and forwards what was held back', async () => {
  const { reads, forwarded, resyncs, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(3));
  reads[0]?.reject(new Error('redis down'));
  await settle();
  assert.equal(resyncs.length, 1);
  assert.deepEqual(forwarded, [1, 3]);
});

test('a new epoch is announced and forwarded from its first offset', () => {
  const { reads, forwarded, resyncs, sequencer } = setup();
  sequencer.accept('c', envelope(7));
  sequencer.accept('c', envelope(1, 'e2'));
  sequencer.accept('c', envelope(2, 'e2'));
  assert.deepEqual(forwarded, [7, 1, 2]);
  assert.deepEqual(resyncs, ['epoch changed: the channel history was lost']);
  assert.equal(reads.length, 0);
});

test('publications without offset pass through, also while a repair holds others back', async () => {
  const { reads, forwarded, sequencer } = setup();
  sequencer.accept('c', encodeEnvelope('raw'));
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(3));
  sequencer.accept('c', encodeEnvelope('raw'));
  assert.deepEqual(forwarded, [null, 1]);
  reads[0]?.resolve(page(3, [2, 3]));
  await settle();
  assert.deepEqual(forwarded, [null, 1, 2, 3, null], 'held back in arrival order');
});

test('an invalid envelope is dropped and counted', () => {
  const { forwarded, stats, sequencer } = setup();
  sequencer.accept('c', Buffer.from([0x92, 9, 0xa0]));
  assert.deepEqual(forwarded, []);
  assert.equal(stats.invalidEnvelopes, 1);
});
