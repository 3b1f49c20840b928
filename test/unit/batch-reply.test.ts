import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BatchItemResult, batchReplyJson } from '../../src/http/batch-reply';

/** Results as the batch handler builds them: `{ ok, channel, size, ...position, ...withKey }`. */
function published(channel: string, size: number, position: { offset: number; epoch: string } | null, repeated?: boolean): BatchItemResult {
  return { ok: true, channel, size, ...position, ...(repeated === undefined ? {} : { repeated }) };
}

test('the batch reply is the text JSON.stringify gives, for every kind of item', () => {
  const cases: BatchItemResult[][] = [
    [published('lt.0', 64, { offset: 1, epoch: 'Ab-_9zK3j2h1' })],
    Array.from({ length: 100 }, (_, i) => published(i % 3 === 0 ? 'a' : 'news:eu.b-1_x', i + 1, { offset: 1000 + i, epoch: 'z9' })),
    [
      published('no-history', 5, null),
      published('keyed', 7, { offset: 2, epoch: 'e1' }, false),
      published('keyed', 7, { offset: 2, epoch: 'e1' }, true),
      published('gone', 3, null, true),
    ],
    [
      { ok: false, channel: null, error: 'invalid_batch', message: 'an item needs channel (a string)' },
      { ok: false, channel: 'x', error: 'invalid_channel', message: 'quote " backslash \\ newline \n and \u2028' },
      published('x', 1, { offset: 9, epoch: 'odd"epoch' }),
      published('y', 1, { offset: 10, epoch: '' }),
      published('Az09_.:@=-', 1, { offset: 11, epoch: 'e' }),
      published('needs "escaping" \\ here', 1, { offset: 12, epoch: 'e' }),
      published('Az09_.:@=-', 1, { offset: 13, epoch: 'e' }),
    ],
  ];
  for (const results of cases) {
    const count = results.filter((r) => r.ok).length;
    const text = batchReplyJson(count, results);
    assert.equal(text, JSON.stringify({ ok: count === results.length, published: count, results }));
    assert.deepEqual(JSON.parse(text).results, results);
  }
});

test('thousands of distinct channels, each seen again later, are quoted the same way every time', () => {
  const results = Array.from({ length: 5000 }, (_, i) => published(`c${i % 4500}`, 1, { offset: i, epoch: 'e' }));
  for (let round = 0; round < 2; round++) assert.equal(batchReplyJson(results.length, results), JSON.stringify({ ok: true, published: 5000, results }));
});
