import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeEnvelope } from '../../src/protocol/envelope';
import { envelope, envelopeWithoutEpoch, page, sequencerHarness as setup, settle } from './fakes/sequencer';

// The live path of the sequencer: order, duplicates, jumps and their repair, epochs.
// Checks after a reconnect and the repair's edge cases: channel-sequencer-repair.test.ts.

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
  const { reads, forwarded, resyncs, logs, stats, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(4));
  sequencer.accept('c', envelope(5));
  assert.deepEqual(forwarded, [1], '4 and 5 wait for the repair');
  assert.equal(reads.length, 1);
  assert.deepEqual([reads[0]?.channel, reads[0]?.since, reads[0]?.limit], ['c', 1, 2], 'offsets 2 and 3 are read');
  assert.equal(stats.gapsDetected, 1);
  assert.deepEqual(
    logs.map(({ channel, after, got, msg }) => ({ channel, after, got, msg })),
    [{ channel: 'c', after: 1, got: 4, msg: 'offset gap: filling from history' }],
  );
  reads[0]?.resolve(page(5, [2, 3]));
  await settle();
  assert.deepEqual(forwarded, [1, 2, 3, 4, 5]);
  assert.deepEqual(resyncs, []);
  assert.deepEqual([stats.gapsDetected, stats.gapsRepaired], [1, 1], 'one gap, counted once, repaired');
  sequencer.accept('c', envelope(6));
  assert.deepEqual(forwarded.at(-1), 6, 'live again after the repair');
});

test('a gap history no longer holds is announced with a resync, and forwarding resumes after it', async () => {
  const { reads, forwarded, resyncs, logs, stats, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(4));
  reads[0]?.resolve(page(4, [3, 4]));
  await settle();
  const reason = 'publications missed by this server are no longer in history';
  assert.deepEqual(resyncs, [reason]);
  assert.deepEqual(forwarded, [1, 4]);
  assert.deepEqual([stats.gapsRepaired, stats.resyncsSent], [0, 1]);
  const notice = logs.at(-1);
  assert.deepEqual([notice?.channel, notice?.reason, notice?.msg], ['c', reason, 'publications lost: resync notice sent']);
  sequencer.accept('c', envelope(5));
  assert.deepEqual(forwarded, [1, 4, 5]);
});

test('a failed repair read announces a resync and forwards what was held back', async () => {
  const { reads, forwarded, resyncs, logs, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(3));
  reads[0]?.reject(new Error('redis down'));
  await settle();
  assert.equal(resyncs.length, 1);
  assert.deepEqual(forwarded, [1, 3]);
  const failure = logs.find((line) => line.msg === 'history read for gap repair failed');
  assert.deepEqual([failure?.channel, failure?.err], ['c', 'redis down']);
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

test('offsets without epoch are ordered like the others; gaining or losing an epoch is an epoch change', () => {
  const { reads, forwarded, resyncs, stats, sequencer } = setup();
  for (const offset of [1, 2, 2, 3]) sequencer.accept('c', envelopeWithoutEpoch(offset));
  assert.deepEqual(forwarded, [1, 2, 3]);
  assert.deepEqual([resyncs.length, stats.duplicatesDropped, reads.length], [0, 1, 0]);
  sequencer.accept('c', envelope(4));
  sequencer.accept('c', envelopeWithoutEpoch(5));
  assert.deepEqual(forwarded, [1, 2, 3, 4, 5]);
  assert.deepEqual(resyncs, ['epoch changed: the channel history was lost', 'epoch changed: the channel history was lost']);
});

test('publications without offset pass through, also while a repair holds others back', async () => {
  const { reads, forwarded, resyncs, sequencer } = setup();
  sequencer.accept('c', encodeEnvelope('raw'));
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(3));
  sequencer.accept('c', encodeEnvelope('raw'));
  assert.deepEqual(forwarded, [null, 1]);
  reads[0]?.resolve(page(3, [2, 3]));
  await settle();
  assert.deepEqual(forwarded, [null, 1, 2, 3, null], 'held back in arrival order');
  assert.deepEqual(resyncs, [], 'a publication without offset is no epoch change');
});

test('an invalid envelope is dropped and counted; the warning about it comes at most once per 10 s', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const { forwarded, logs, stats, sequencer } = setup();
  sequencer.accept('c', Buffer.from([0x92, 9, 0xa0]));
  assert.deepEqual(forwarded, []);
  assert.equal(stats.invalidEnvelopes, 1);
  assert.deepEqual(
    logs.map(({ channel, problem, invalid, msg }) => ({ channel, problem, invalid, msg })),
    [{ channel: 'c', problem: 'envelope version must be 1', invalid: 1, msg: 'dropped a publication that is not a valid envelope (see docs/PROTOCOL.md)' }],
  );
  t.mock.timers.tick(10_000);
  sequencer.accept('d', Buffer.from([0x92, 9, 0xa0]));
  assert.deepEqual([stats.invalidEnvelopes, logs.length], [2, 1], 'exactly 10 s later: still quiet');
  t.mock.timers.tick(1);
  sequencer.accept('d', Buffer.from([0x92, 9, 0xa0]));
  assert.deepEqual([stats.invalidEnvelopes, logs.length, logs[1]?.invalid], [3, 2, 3]);
});
