import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecoveryBuffer } from '../../src/hub/recovery-buffer';
import { parseStored, type Sequenced } from '../../src/hub/sequenced';
import { createStats } from '../../src/stats';
import { envelope } from './fakes/sequencer';

const item = (offset: number): Sequenced => parseStored(envelope(offset), createStats())!;
const offsets = (list: Sequenced[]): Array<number | null> => list.map((i) => i.view.offset);

test('every recording open on a channel gets what is forwarded on it, in order, until it is closed', () => {
  const buffer = new RecoveryBuffer();
  const first = buffer.open('c');
  const second = buffer.open('c');
  const other = buffer.open('d');
  buffer.record('c', item(1));
  buffer.record('c', item(2));
  assert.equal(buffer.openCount('c'), 2);
  buffer.close('c', first);
  buffer.record('c', item(3));
  assert.deepEqual([offsets(first), offsets(second), offsets(other)], [[1, 2], [1, 2, 3], []]);
  assert.equal(buffer.openCount('c'), 1);
  buffer.close('c', second);
  buffer.record('c', item(4));
  assert.deepEqual([offsets(second), buffer.openCount('c')], [[1, 2, 3], 0]);
  buffer.record('d', item(9));
  assert.deepEqual(offsets(other), [9]);
});

test('closing on a channel without recordings does nothing', () => {
  const buffer = new RecoveryBuffer();
  buffer.close('c', []);
  const list = buffer.open('c');
  buffer.close('c', []);
  buffer.record('c', item(1));
  assert.deepEqual([offsets(list), buffer.openCount('c')], [[1], 1], 'a list that was never opened closes nothing');
});

test('parseStored: a valid envelope read from history becomes a publication; anything else is counted and skipped', () => {
  const stats = createStats();
  assert.equal(parseStored(envelope(7), stats)?.view.offset, 7);
  assert.equal(parseStored(Buffer.from([0x92, 9, 0xa0]), stats), null);
  assert.equal(parseStored(Buffer.from('not msgpack'), stats), null);
  assert.equal(stats.invalidEnvelopes, 2);
});
