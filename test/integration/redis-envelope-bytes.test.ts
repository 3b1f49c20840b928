import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Redis from 'ioredis';
import { HistoryPolicies } from '../../src/config/history-policy';
import { encodeData, encodeSequencedEnvelope, parseEnvelope } from '../../src/protocol/envelope';
import { cleanupSteps } from '../helpers/cleanup';
import { TestRedis } from '../helpers/redis-server';
import { testRedisBroker } from '../helpers/test-brokers';
import { waitFor } from '../helpers/wait';

/** Offsets where the msgpack integer changes form (fixint → uint32 at 128, uint32 → uint64 at 2^32), and one whose four bytes all differ. */
const EDGES = [126, 0x010202fe, 4_294_967_294];

/**
 * The publish scripts build envelopes in Lua; everything else in JavaScript
 * (`encodeSequencedEnvelope`). Both must give the same bytes for every offset, through every
 * script: the single one, the batch one and the one with idempotency keys.
 */
describe('Envelopes built by the Redis publish scripts', { timeout: 30_000 }, () => {
  const cleanup = cleanupSteps();

  test('are byte for byte what encodeSequencedEnvelope builds, across the integer forms of the offset', { timeout: 30_000 }, async () => {
    const redis = await TestRedis.start();
    cleanup.push(() => redis.kill());
    const broker = testRedisBroker(redis.url, 'env:', new HistoryPolicies({ historySize: 100, historyTtl: 60, historyNamespaces: '' }));
    cleanup.push(() => broker.close());
    await broker.start();
    await waitFor('broker ready', () => broker.isReady());
    const admin = new Redis(redis.url);
    cleanup.push(async () => admin.disconnect());
    const ways: Record<string, (channel: string, data: string[]) => Promise<unknown>> = {
      single: async (channel, data) => {
        for (const d of data) await broker.publish(channel, d);
      },
      batch: (channel, data) => broker.publishMany(channel, data),
      keyed: (channel, data) =>
        broker.publishMany(
          channel,
          data,
          data.map((d) => ({ idempotencyKey: d })),
        ),
    };
    for (const [way, publish] of Object.entries(ways)) {
      for (const edge of EDGES) {
        const channel = `${way}-${edge}`;
        await broker.publish(channel, 'first');
        await admin.hset(`env:m:${channel}`, 's', edge);
        const data = ['a', 'b', 'c'].map((x) => `${way}-${edge}-${x}`);
        await publish(channel, data);
        const page = await broker.history(channel, edge, 10);
        assert.deepEqual(
          page!.publications.map((p) => p.offset),
          [edge + 1, edge + 2, edge + 3],
        );
        page!.publications.forEach((p, i) => {
          const view = parseEnvelope(p.envelope);
          assert.ok(typeof view !== 'string', `${channel}: ${view}`);
          const expected = encodeSequencedEnvelope(encodeData(data[i]!), p.offset, page!.epoch, view.publishedAt!);
          assert.equal(p.envelope.toString('hex'), expected.toString('hex'), `${way}, offset ${p.offset}`);
        });
      }
    }
  });
});
