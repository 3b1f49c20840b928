/** Unit tests for latency histogram encoding and merging across workers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHistogram, decodeHistogram, encodeHistogram, mergeEncoded, recordMs, summarize } from '../generator/latency.js';

test('a histogram survives encode/decode', () => {
  const h = createHistogram();
  for (let i = 1; i <= 1000; i++) recordMs(h, i / 10); // 0.1 .. 100 ms
  const back = decodeHistogram(encodeHistogram(h));
  assert.equal(back.totalCount, 1000);
  // a decoded histogram reports the top of the max value's bucket: equal to 3 significant digits
  assert.ok(Math.abs(back.maxValue - h.maxValue) / h.maxValue < 0.001);
  assert.equal(back.getValueAtPercentile(99), h.getValueAtPercentile(99));
});

test('merging worker histograms equals recording everything in one', () => {
  const a = createHistogram();
  const b = createHistogram();
  const all = createHistogram();
  for (let i = 0; i < 5000; i++) {
    const v = ((i * 7919) % 2000) / 10; // 0 .. 199.9 ms, scrambled
    recordMs(i % 3 === 0 ? a : b, v);
    recordMs(all, v);
  }
  const merged = mergeEncoded([encodeHistogram(a), '', encodeHistogram(b)]);
  assert.equal(merged.totalCount, 5000);
  const m = summarize(merged);
  const e = summarize(all);
  assert.ok(Math.abs(m.max - e.max) / e.max < 0.001);
  assert.deepEqual({ ...m, max: 0 }, { ...e, max: 0 });
});

test('summary is in milliseconds with 3 significant digits', () => {
  const h = createHistogram();
  for (let i = 0; i < 99; i++) recordMs(h, 1);
  recordMs(h, 250);
  const s = summarize(h);
  assert.equal(s.count, 100);
  assert.ok(Math.abs(s.p50 - 1) < 0.002, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.max - 250) / 250 < 0.001, `max ${s.max}`);
  assert.ok(s.p999 >= 249);
});

test('negative (clock skew) and oversized latencies are clamped, not thrown', () => {
  const h = createHistogram();
  recordMs(h, -3);
  recordMs(h, 10 * 60 * 1000);
  assert.equal(h.totalCount, 2);
  assert.equal(summarize(createHistogram()).count, 0);
});
