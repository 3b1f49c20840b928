import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Redis from 'ioredis';
import { HistoryPolicies } from '../../src/config/history-policy';
import { cleanupSteps } from '../helpers/cleanup';
import { TestRedis } from '../helpers/redis-server';
import { testRedisBroker } from '../helpers/test-brokers';
import { waitFor } from '../helpers/wait';

/** Entries Redis keeps in one stream node (`stream-node-max-entries`, default 100): `MAXLEN ~` trims whole nodes. */
const NODE_ENTRIES = 100;

/** History reads return only the last `size` publications, so only Redis itself shows whether streams stay bounded. */
describe('Redis history streams stay bounded', { timeout: 60_000 }, () => {
  const cleanup = cleanupSteps();

  test('single publishes (one at a time, and many sharing script calls), batch publishes and publishes with idempotency keys trim the stream to about the history size', { timeout: 60_000 }, async () => {
    const redis = await TestRedis.start();
    cleanup.push(() => redis.kill());
    const size = 50;
    const broker = testRedisBroker(redis.url, 'bound:', new HistoryPolicies({ historySize: size, historyTtl: 60, historyNamespaces: '' }));
    cleanup.push(() => broker.close());
    await broker.start();
    await waitFor('broker ready', () => broker.isReady());
    const inspect = new Redis(redis.url);
    cleanup.push(async () => inspect.disconnect());
    const streamLength = (channel: string): Promise<number> => inspect.xlen(`bound:h:${channel}`);
    // Many at once: they go in shared script calls (the batch script).
    for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 200 }, (_, i) => broker.publish('singles', `m${round}-${i}`)));
    for (let round = 0; round < 10; round++) await broker.publishMany('batches', Array.from({ length: 100 }, (_, i) => `b${round}-${i}`));
    // One at a time: every call is the single-publication script.
    for (let i = 0; i < 1000; i++) await broker.publish('one-by-one', `o${i}`);
    // With idempotency keys: the idempotent script.
    for (let round = 0; round < 10; round++) {
      await broker.publishMany(
        'keyed',
        Array.from({ length: 100 }, (_, i) => `k${round}-${i}`),
        Array.from({ length: 100 }, (_, i) => ({ idempotencyKey: `key-${round}-${i}` })),
      );
    }
    for (const channel of ['singles', 'batches', 'one-by-one', 'keyed']) {
      const length = await streamLength(channel);
      assert.ok(length >= size && length <= size + NODE_ENTRIES, `${channel}: ${length} entries kept for a history of ${size} (1,000 published)`);
      const page = await broker.history(channel, 0, 1000);
      assert.equal(page!.top, 1000);
      assert.deepEqual(
        page!.publications.map((p) => p.offset),
        Array.from({ length: size }, (_, i) => 1000 - size + 1 + i),
        `${channel}: the last ${size} publications`,
      );
    }
  });
});
