import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryHistory } from '../../src/broker/memory-history';
import { HistoryPolicies } from '../../src/config/history-policy';
import { encodeSequencedEnvelope } from '../../src/protocol/envelope';

function history(size: number, ttl = 60): { h: MemoryHistory; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const h = new MemoryHistory(new HistoryPolicies({ historySize: size, historyTtl: ttl, historyNamespaces: '' }), 3600, () => clock.now);
  return { h, clock };
}

const offsets = (h: MemoryHistory, since: number, limit: number): number[] => h.read('c', since, limit)!.publications.map((p) => p.offset);

test('memory history keeps the last `size` publications; reads start after `since` and stop at `limit`', () => {
  const { h } = history(3);
  const appended = Array.from({ length: 5 }, (_, i) => h.append('c', Buffer.from([0xa1, 0x61 + i]))!);
  assert.deepEqual(
    appended.map((a) => a.position.offset),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(offsets(h, 0, 10), [3, 4, 5], 'the oldest two were dropped');
  assert.deepEqual(offsets(h, 3, 10), [4, 5]);
  assert.deepEqual(offsets(h, 4, 1), [5]);
  assert.deepEqual(offsets(h, 0, 2), [3, 4]);
  assert.deepEqual(offsets(h, 5, 10), []);
  assert.deepEqual(offsets(h, 99, 10), []);
  assert.deepEqual(offsets(h, 0, 0), []);
  assert.equal(h.read('c', 0, 10)!.top, 5);
  const page = h.read('c', 3, 10)!;
  assert.ok(
    page.publications.every((p, i) => p.envelope.equals(appended[3 + i]!.envelope)),
    'each entry keeps its own envelope',
  );
  h.close();
});

test('memory history: expiry empties the history but keeps counting; one clock reading serves a batch', () => {
  const { h, clock } = history(3, 10);
  h.append('c', Buffer.from([0xa1, 0x61]));
  h.append('c', Buffer.from([0xa1, 0x62]));
  clock.now += 11_000;
  assert.deepEqual(offsets(h, 0, 10), [], 'the history expired 10 s after the last publication');
  const at = h.time();
  const next = h.append('c', Buffer.from([0xa1, 0x63]), at)!;
  assert.equal(next.position.offset, 3, 'the offset counter (meta) outlives the history');
  assert.deepEqual(offsets(h, 0, 10), [3]);
  assert.equal(at, clock.now);
  h.close();
});

test('memory history: each envelope is encodeSequencedEnvelope of its data, offset, epoch and the time of its append, also when appends share a millisecond', () => {
  const { h, clock } = history(10);
  const data = (i: number): Buffer => Buffer.from([0xa1, 0x61 + i]);
  const made: Array<{ i: number; at: number; envelope: Buffer; offset: number; epoch: string }> = [];
  for (let i = 0; i < 6; i++) {
    // two appends per millisecond, then the clock moves (by more than a uint32 can hold at the last step)
    if (i > 0 && i % 2 === 0) clock.now += i === 4 ? 2 ** 32 : 1;
    const a = h.append('c', data(i))!;
    made.push({ i, at: clock.now, envelope: a.envelope, offset: a.position.offset, epoch: a.position.epoch });
  }
  for (const m of made) assert.deepEqual(m.envelope, encodeSequencedEnvelope(data(m.i), m.offset, m.epoch, m.at), `append ${m.i}`);
  h.close();
});
