/** Unit tests for how the coordinator splits subscribers, channels and source addresses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PER_WORKER, expectedDeliveries, planWorkers } from '../generator/coordinator.js';
import { autoSourceAddresses, sourceAddressFor } from '../generator/source-address.js';

test('workers never exceed the per-process subscriber cap', () => {
  assert.deepEqual(planWorkers(10, 1), [10]);
  assert.deepEqual(planWorkers(10, 3), [4, 3, 3]);
  const big = planWorkers(100_000, 1);
  assert.equal(
    big.reduce((a, b) => a + b, 0),
    100_000,
  );
  assert.ok(big.every((n) => n <= MAX_PER_WORKER));
  assert.equal(big.length, Math.ceil(100_000 / MAX_PER_WORKER));
});

test('expected deliveries follow the subscriber-to-channel assignment g % C', () => {
  // 10 subscribers over 3 channels: channel 0 has 4, channels 1 and 2 have 3
  assert.equal(expectedDeliveries([6, 4], 3, [1, 10, 100]), 4 * 1 + 3 * 10 + 3 * 100);
  assert.equal(expectedDeliveries([5000], 1, [42]), 5000 * 42);
});

test('source addresses are spread only past one address worth of ports', () => {
  assert.deepEqual(autoSourceAddresses(20_000), []);
  assert.deepEqual(autoSourceAddresses(100_000), ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']);
  const addrs = autoSourceAddresses(45_000, 20_000);
  assert.equal(sourceAddressFor(0, addrs, 20_000), '127.0.0.1');
  assert.equal(sourceAddressFor(19_999, addrs, 20_000), '127.0.0.1');
  assert.equal(sourceAddressFor(20_000, addrs, 20_000), '127.0.0.2');
  assert.equal(sourceAddressFor(44_999, addrs, 20_000), '127.0.0.3');
  assert.equal(sourceAddressFor(5, [], 20_000), undefined);
});
