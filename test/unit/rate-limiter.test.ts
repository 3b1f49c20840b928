import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../../src/security/rate-limiter';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** How many of `count` takes of `size` bytes succeed at the current time. */
function takeMany(limiter: RateLimiter, bucket: ReturnType<RateLimiter['newBucket']>, count: number, size = 1): number {
  let ok = 0;
  for (let i = 0; i < count; i++) if (limiter.take(bucket, size)) ok++;
  return ok;
}

test('a burst is exactly twice the per-second message limit', () => {
  const clock = manualClock();
  const limiter = new RateLimiter(10, 0, clock.now);
  const bucket = limiter.newBucket();
  assert.equal(takeMany(limiter, bucket, 40), 20);
  assert.equal(limiter.take(bucket, 1), false, 'still empty without time passing');
});

test('messages refill at the per-second rate, never past the burst', () => {
  const clock = manualClock();
  const limiter = new RateLimiter(10, 0, clock.now);
  const bucket = limiter.newBucket();
  assert.equal(takeMany(limiter, bucket, 20), 20);
  clock.advance(99);
  assert.equal(limiter.take(bucket, 1), false, '0.99 of a token after 99 ms');
  clock.advance(1);
  assert.equal(takeMany(limiter, bucket, 5), 1, 'one token after 100 ms');
  clock.advance(500);
  assert.equal(takeMany(limiter, bucket, 10), 5, 'five tokens after 500 ms');
  clock.advance(60_000);
  assert.equal(takeMany(limiter, bucket, 100), 20, 'a long pause refills only up to the burst');
});

test('a refused take costs nothing', () => {
  const clock = manualClock();
  const limiter = new RateLimiter(1, 100, clock.now);
  const bucket = limiter.newBucket();
  assert.equal(limiter.take(bucket, 201), false, 'over the byte burst');
  assert.deepEqual([bucket.messages, bucket.bytes], [2, 200], 'no message token taken for a refused size');
  assert.equal(limiter.take(bucket, 200), true);
  assert.equal(limiter.take(bucket, 0), true, 'second message, no bytes left but none needed');
  assert.equal(limiter.take(bucket, 0), false, 'the message burst is 2');
  assert.deepEqual([bucket.messages, bucket.bytes], [0, 0]);
});

test('bytes: a burst of twice the per-second bytes, refilled at that rate', () => {
  const clock = manualClock();
  const limiter = new RateLimiter(0, 1000, clock.now);
  const bucket = limiter.newBucket();
  assert.equal(takeMany(limiter, bucket, 10, 500), 4, '2000 bytes in 500-byte frames');
  assert.equal(limiter.take(bucket, 1), false);
  clock.advance(250);
  assert.equal(limiter.take(bucket, 251), false, '250 bytes after 250 ms');
  assert.equal(limiter.take(bucket, 250), true);
  clock.advance(10_000);
  assert.equal(takeMany(limiter, bucket, 10, 1000), 2, 'refilled only up to the 2000-byte burst');
});

test('a limit of 0 is off; the other limit still applies', () => {
  const clock = manualClock();
  const unlimited = new RateLimiter(0, 0, clock.now);
  const bucket = unlimited.newBucket();
  assert.equal(takeMany(unlimited, bucket, 100_000, 1_000_000), 100_000);
  const messagesOnly = new RateLimiter(5, 0, clock.now);
  assert.equal(takeMany(messagesOnly, messagesOnly.newBucket(), 50, 10_000_000), 10);
});

test('time going backwards refills nothing; explicit times override the clock', () => {
  const clock = manualClock();
  const limiter = new RateLimiter(10, 0, clock.now);
  const bucket = limiter.newBucket();
  assert.equal(takeMany(limiter, bucket, 20), 20);
  clock.advance(-5000);
  assert.equal(limiter.take(bucket, 1), false);
  assert.equal(bucket.last, clock.now());
  assert.equal(limiter.take(bucket, 1, clock.now() + 100), true, 'a caller-given time counts');
  const fresh = limiter.newBucket(42);
  assert.deepEqual(fresh, { messages: 20, bytes: 0, last: 42 });
});

test('the default clock is the wall clock', () => {
  const limiter = new RateLimiter(1, 0);
  const before = Date.now();
  const bucket = limiter.newBucket();
  assert.ok(bucket.last >= before && bucket.last <= Date.now());
});
