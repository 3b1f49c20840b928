import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeEnvelope } from '../../src/protocol/envelope';
import { EPOCH, envelope, page, sequencerHarness as setup, settle } from './fakes/sequencer';

// The sequencer's repairs at their edges, its check after a reconnect (verifyAll), and the
// channel state a recovery reads and sets (position, observe, forget).

test('a failed history check after a reconnect keeps the publications that arrived meanwhile', async () => {
  const { reads, forwarded, resyncs, logs, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(2));
  sequencer.verifyAll();
  sequencer.accept('c', envelope(3));
  assert.deepEqual(forwarded, [1, 2], 'held back while the check runs');
  reads[0]!.reject(new Error('the Redis connection dropped before answering'));
  await settle();
  assert.deepEqual(forwarded, [1, 2, 3]);
  assert.deepEqual(resyncs, []);
  assert.deepEqual(
    logs.map(({ channel, err, msg }) => ({ channel, err, msg })),
    [{ channel: 'c', err: 'the Redis connection dropped before answering', msg: 'history read after reconnect failed' }],
  );
});

test('a history check after a reconnect counts a gap only when something was missing', async () => {
  const { reads, forwarded, stats, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.verifyAll();
  assert.deepEqual([reads[0]?.since, reads[0]?.limit], [1, Number.MAX_SAFE_INTEGER], 'everything after the last forwarded offset');
  reads[0]!.resolve({ epoch: EPOCH, top: 1, publications: [] });
  await settle();
  assert.deepEqual([stats.gapsDetected, stats.gapsRepaired], [0, 0], 'nothing was missing');
  sequencer.verifyAll();
  reads[1]!.resolve(page(3, [2, 3]));
  await settle();
  assert.deepEqual(forwarded, [1, 2, 3]);
  assert.deepEqual([stats.gapsDetected, stats.gapsRepaired], [1, 1]);
});

test('history that holds only the start of a gap is no repair: the rest is announced, then forwarding goes on', async () => {
  const { reads, forwarded, resyncs, stats, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(5));
  reads[0]!.resolve(page(5, [2, 3]));
  await settle();
  assert.deepEqual(forwarded, [1, 2, 3, 5], 'what history had, then the held-back publication');
  assert.deepEqual(resyncs, ['publications missed by this server are no longer in history'], 'offset 4 is lost');
  assert.deepEqual([stats.gapsRepaired, reads.length], [0, 1]);
  sequencer.accept('c', envelope(6));
  assert.deepEqual(forwarded.at(-1), 6);
});

test('an invalid envelope in history ends the repair there', async () => {
  const { reads, forwarded, resyncs, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(4));
  reads[0]!.resolve({
    epoch: EPOCH,
    top: 4,
    publications: [
      { offset: 2, envelope: envelope(2) },
      { offset: 3, envelope: Buffer.from([0x92, 9, 0xa0]) },
    ],
  });
  await settle();
  assert.deepEqual(forwarded, [1, 2, 4]);
  assert.equal(resyncs.length, 1, 'offset 3 could not be repaired');
});

test('a repair answered after the channel was dropped changes nothing', async () => {
  const { reads, forwarded, resyncs, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(3));
  sequencer.forget('c');
  reads[0]!.resolve(page(3, [2, 3]));
  await settle();
  assert.deepEqual([forwarded, resyncs], [[1], []]);
  assert.equal(sequencer.position('c'), null);
});

test('a check after a reconnect skips a channel whose gap is being repaired', async () => {
  const { reads, forwarded, resyncs, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(3));
  sequencer.verifyAll();
  assert.equal(reads.length, 1, 'only the repair reads history');
  reads[0]!.resolve(page(3, [2, 3]));
  await settle();
  assert.deepEqual([forwarded, resyncs], [[1, 2, 3], []]);
});

test('a publication without offset held back first during a check does not count as the next offset', async () => {
  const { reads, forwarded, resyncs, stats, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.verifyAll();
  sequencer.accept('c', encodeEnvelope('raw'));
  sequencer.accept('c', envelope(2));
  reads[0]!.resolve(page(1, []));
  await settle();
  assert.deepEqual(forwarded, [1, null, 2]);
  assert.deepEqual([resyncs, stats.gapsDetected], [[], 0]);
});

test('a check that finds a new epoch in history announces it once and goes on in that epoch', async () => {
  const { reads, forwarded, resyncs, stats, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.verifyAll();
  // The offsets line up, but they are another epoch's: the history was lost and rebuilt.
  reads[0]!.resolve(page(5, [2, 3, 4, 5], 'e2'));
  await settle();
  assert.deepEqual([forwarded, resyncs.length, stats.gapsDetected], [[1], 1, 1]);
  assert.deepEqual(sequencer.position('c'), { epoch: 'e2', offset: 5 });
  sequencer.accept('c', envelope(6, 'e2'));
  assert.deepEqual([forwarded, resyncs.length, reads.length], [[1, 6], 1, 1], 'live in the new epoch, no second notice');
});

test('a check on a channel whose history is gone (no page) announces a resync and goes on', async () => {
  const { reads, forwarded, resyncs, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.verifyAll();
  reads[0]!.resolve(null);
  await settle();
  assert.deepEqual(resyncs, ['publications missed by this server are no longer in history']);
  assert.deepEqual(sequencer.position('c'), { epoch: 'e1', offset: 1 }, 'nothing to move to');
  sequencer.accept('c', envelope(2));
  assert.deepEqual(forwarded, [1, 2]);
});

test('a failed check after the channel was dropped forwards nothing it held back', async () => {
  const { reads, forwarded, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.verifyAll();
  sequencer.accept('c', envelope(2));
  sequencer.forget('c');
  reads[0]!.reject(new Error('redis down'));
  await settle();
  assert.deepEqual(forwarded, [1]);
});

test('observe sets the starting point of a channel not seen yet, and only then; forget drops the channel', () => {
  const { reads, forwarded, sequencer } = setup();
  assert.equal(sequencer.position('c'), null);
  sequencer.observe('c', EPOCH, 4);
  assert.deepEqual(sequencer.position('c'), { epoch: EPOCH, offset: 4 });
  sequencer.accept('c', envelope(5));
  assert.deepEqual([forwarded, reads.length], [[5], 0], 'offset 5 follows the observed 4');
  sequencer.observe('c', 'e9', 100);
  assert.deepEqual(sequencer.position('c'), { epoch: EPOCH, offset: 5 }, 'a channel already seen keeps its position');
  sequencer.forget('c');
  assert.equal(sequencer.position('c'), null);
  sequencer.accept('c', envelope(9));
  assert.deepEqual([forwarded, reads.length], [[5, 9], 0], 'after forget the next publication starts afresh');
});
