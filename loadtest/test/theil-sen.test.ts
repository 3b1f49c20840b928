/** Unit tests for the robust slope used by the idle-memory measurement. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { theilSenSlope } from '../theil-sen.js';

test('a straight line gives its slope', () => {
  const points = [3000, 6000, 9000, 12000].map((x) => ({ x, y: 60_000_000 + 950 * x }));
  assert.equal(theilSenSlope(points), 950);
});

test('one step where the heap shrinks does not drag the slope down', () => {
  // 1000 B per connection, but the last sample lost 4 MB to a heap shrink
  const points = [3000, 6000, 9000, 12000, 15000, 18000].map((x) => ({ x, y: 60_000_000 + 1000 * x - (x === 18000 ? 4_000_000 : 0) }));
  assert.equal(theilSenSlope(points), 1000);
  // an ordinary least-squares fit of the same points would give about 657 B
});

test('fewer than two distinct x values give 0', () => {
  assert.equal(theilSenSlope([]), 0);
  assert.equal(theilSenSlope([{ x: 1, y: 5 }]), 0);
  assert.equal(
    theilSenSlope([
      { x: 1, y: 5 },
      { x: 1, y: 9 },
    ]),
    0,
  );
});

test('an even number of slopes gives the mean of the middle two', () => {
  // slopes (0,0)-(1,1)=1, (0,0)-(2,4)=2, (1,1)-(2,4)=3 -> odd count, median 2; add a point for an even count
  assert.equal(
    theilSenSlope([
      { x: 0, y: 0 },
      { x: 1, y: 1 },
      { x: 2, y: 4 },
    ]),
    2,
  );
  // 6 slopes: 1, 2, 3, 3, 4, 5 -> median (3 + 3) / 2
  assert.equal(
    theilSenSlope([
      { x: 0, y: 0 },
      { x: 1, y: 1 },
      { x: 2, y: 4 },
      { x: 3, y: 9 },
    ]),
    3,
  );
});
