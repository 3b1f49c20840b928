import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, DEFAULT_BACKOFF, checkBackoff } from '../../src/client/backoff';

test('back-off caps double from initialDelay up to maxDelay (documented defaults 500 ms, 20 s, x2)', () => {
  assert.deepEqual({ ...DEFAULT_BACKOFF }, { initialDelay: 500, maxDelay: 20_000, factor: 2 });
  const backoff = new Backoff(DEFAULT_BACKOFF, () => 0.999999);
  const delays = Array.from({ length: 9 }, () => backoff.next());
  assert.deepEqual(delays, [499, 999, 1999, 3999, 7999, 15999, 19999, 19999, 19999]);
  assert.equal(backoff.attempts, 9);
});

test('full jitter: every delay is random() times the cap, from 0 up to the cap', () => {
  const draws = [0, 0.5, 0.25, 0.75];
  const backoff = new Backoff({ initialDelay: 100, maxDelay: 1000, factor: 3 }, () => draws.shift()!);
  // caps 100, 300, 900, 1000
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next()], [0, 150, 225, 750]);
});

test('reset starts the schedule over after a success', () => {
  const backoff = new Backoff({ initialDelay: 100, maxDelay: 10_000, factor: 2 }, () => 0.5);
  backoff.next();
  backoff.next();
  assert.equal(backoff.cap(), 400);
  backoff.reset();
  assert.equal(backoff.attempts, 0);
  assert.equal(backoff.next(), 50);
});

test('back-off settings are checked, naming the option', () => {
  assert.throws(() => checkBackoff({ factor: 0.5 }, 'option reconnect'), /option reconnect: .*factor >= 1/);
  assert.throws(() => checkBackoff({ initialDelay: 5000, maxDelay: 10 }, 'option retry'), /option retry/);
  assert.deepEqual({ ...checkBackoff({ maxDelay: 1000 }, 'x') }, { initialDelay: 500, maxDelay: 1000, factor: 2 });
});
