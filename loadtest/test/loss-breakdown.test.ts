/** Unit tests for the generator's loss split (closed / tail / gaps) and its quiet detection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addBreakdown, addSubscriberLoss, emptyBreakdown } from '../generator/loss-breakdown.js';
import { QuietDetector } from '../generator/quiet-detector.js';

test('a subscriber closed early counts all its loss as on-closed', () => {
  const b = addSubscriberLoss(emptyBreakdown(), 10, 7, true);
  assert.deepEqual(b, { onClosed: 10, closedWithLoss: 1, atTail: 0, inGaps: 0, openWithLoss: 0, openWithGaps: 0 });
});

test("an open subscriber's loss splits into the tail and the gaps below it", () => {
  const b = emptyBreakdown();
  addSubscriberLoss(b, 10, 7, false); // 3 in gaps
  addSubscriberLoss(b, 5, 5, false); // tail only
  addSubscriberLoss(b, 0, 0, false); // no loss: not counted
  assert.deepEqual(b, { onClosed: 0, closedWithLoss: 0, atTail: 12, inGaps: 3, openWithLoss: 2, openWithGaps: 1 });
});

test('a tail larger than the loss is capped at the loss', () => {
  assert.equal(addSubscriberLoss(emptyBreakdown(), 2, 9, false).atTail, 2);
});

test('breakdowns add up', () => {
  const a = addSubscriberLoss(emptyBreakdown(), 4, 4, false);
  const b = addSubscriberLoss(emptyBreakdown(), 6, 0, true);
  assert.deepEqual(addBreakdown(a, b), { onClosed: 6, closedWithLoss: 1, atTail: 4, inGaps: 0, openWithLoss: 1, openWithGaps: 0 });
});

test('deliveries count as stopped only after every worker reported no change twice', () => {
  const q = new QuietDetector(2, 2);
  assert.equal(q.quiet(), false);
  q.observe(0, 100);
  q.observe(1, 50);
  q.observe(0, 100);
  q.observe(0, 100);
  // worker 1 sent nothing since: busy reading, not idle
  assert.equal(q.quiet(), false);
  assert.deepEqual(q.busyWorkers(), [1]);
  q.observe(1, 50);
  assert.equal(q.quiet(), false);
  q.observe(1, 50);
  assert.equal(q.quiet(), true);
});

test('a change in any worker starts its quiet period again', () => {
  const q = new QuietDetector(1, 2);
  q.observe(0, 1);
  q.observe(0, 1);
  q.observe(0, 2);
  q.observe(0, 2);
  assert.equal(q.quiet(), false);
  q.observe(0, 2);
  assert.equal(q.quiet(), true);
});

test('reset asks for a new quiet period; unknown workers are ignored', () => {
  const q = new QuietDetector(1, 1);
  q.observe(0, 5);
  q.observe(0, 5);
  assert.equal(q.quiet(), true);
  q.reset();
  assert.equal(q.quiet(), false);
  q.observe(3, 1);
  q.observe(0, 5);
  assert.equal(q.quiet(), true);
});
