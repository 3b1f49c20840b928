/** Unit tests for the generator's per-subscriber counting and loss/duplicate/reorder detection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceTracker, addCounts, emptyCounts } from '../generator/sequence-tracker.js';

function feed(seqs: number[], expected: number, slots = 1, slot = 0): ReturnType<SequenceTracker['finish']> {
  const t = new SequenceTracker(slots);
  for (const s of seqs) t.record(slot, s);
  return t.finish(slot, expected);
}

test('in-order complete delivery has no loss, duplicate or reorder', () => {
  const c = feed([0, 1, 2, 3, 4], 5);
  assert.deepEqual(c, { received: 5, unique: 5, duplicates: 0, reordered: 0, lost: 0, lostAtTail: 0, unexpected: 0 });
});

test('nothing received means everything lost, all of it at the tail', () => {
  const c = feed([], 7);
  assert.equal(c.lost, 7);
  assert.equal(c.lostAtTail, 7);
});

test('loss is split into the tail after the last message received and gaps below it', () => {
  assert.equal(feed([0, 1, 4, 5], 8).lostAtTail, 2); // 6, 7 after the last; 2, 3 are a gap
  assert.equal(feed([3, 4], 5).lostAtTail, 0); // the head 0..2 is a gap below the last received
  assert.equal(feed([0, 1, 2], 3).lostAtTail, 0);
  assert.equal(feed([0, 2, 1], 6).lostAtTail, 3);
});

test('a gap in the middle and a missing tail count as loss', () => {
  const c = feed([0, 1, 4, 5], 8); // 2, 3 missing; 6, 7 never came
  assert.equal(c.lost, 4);
  assert.equal(c.unique, 4);
  assert.equal(c.reordered, 0);
  assert.equal(c.duplicates, 0);
});

test('a late arrival filling a gap is reordered, not lost nor duplicate', () => {
  const c = feed([0, 2, 1, 3], 4);
  assert.deepEqual(c, { received: 4, unique: 4, duplicates: 0, reordered: 1, lost: 0, lostAtTail: 0, unexpected: 0 });
});

test('late arrivals inside a wide gap split it exactly', () => {
  const c = feed([0, 10, 5, 3, 9, 1, 2, 4, 6, 7, 8], 11);
  assert.equal(c.lost, 0);
  assert.equal(c.reordered, 9);
  assert.equal(c.duplicates, 0);
  const partial = feed([0, 10, 5, 3], 11); // 1,2,4,6,7,8,9 missing
  assert.equal(partial.lost, 7);
  assert.equal(partial.reordered, 2);
});

test('a repeated sequence number is a duplicate', () => {
  const c = feed([0, 1, 1, 2, 0], 3);
  assert.equal(c.duplicates, 2);
  assert.equal(c.unique, 3);
  assert.equal(c.lost, 0);
  assert.equal(c.received, 5);
});

test('a late arrival delivered twice is one reorder and one duplicate', () => {
  const c = feed([0, 2, 1, 1], 3);
  assert.equal(c.reordered, 1);
  assert.equal(c.duplicates, 1);
  assert.equal(c.lost, 0);
});

test('messages beyond the expected count are unexpected and do not hide loss', () => {
  const c = feed([0, 2, 3, 4], 3); // 1 lost; 3 and 4 were never published
  assert.equal(c.unexpected, 2);
  assert.equal(c.lost, 1);
});

test('slots are independent', () => {
  const t = new SequenceTracker(3);
  t.record(0, 0);
  t.record(1, 0);
  t.record(1, 1);
  t.record(2, 1);
  assert.equal(t.finish(0, 2).lost, 1);
  assert.equal(t.finish(1, 2).lost, 0);
  assert.equal(t.finish(2, 2).lost, 1);
  assert.equal(t.receivedOn(1), 2);
});

test('live indicators report missing and duplicates so far', () => {
  const t = new SequenceTracker(2);
  for (const s of [0, 3, 3]) t.record(0, s);
  t.record(1, 5);
  assert.equal(t.missingSoFar(0), 2);
  assert.equal(t.totalMissingSoFar(), 7);
  assert.equal(t.totalDuplicates(), 1);
  t.record(0, 1);
  t.record(0, 2);
  assert.equal(t.missingSoFar(0), 0);
});

test('a huge gap costs one range and is accounted exactly', () => {
  const c = feed([0, 1_000_000], 1_000_001);
  assert.equal(c.lost, 999_999);
});

test('counts add up', () => {
  const a = feed([0, 1, 1], 3);
  const b = feed([1, 0], 2);
  const s = addCounts(addCounts(emptyCounts(), a), b);
  assert.deepEqual(s, { received: 5, unique: 4, duplicates: 1, reordered: 1, lost: 1, lostAtTail: 1, unexpected: 0 });
});
