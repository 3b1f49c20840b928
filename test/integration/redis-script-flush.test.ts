import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Redis from 'ioredis';
import { unpack } from 'msgpackr';
import { SCRIPT_LOST_MESSAGE } from '../../src/broker/channel-calls';
import { HistoryPolicies } from '../../src/config/history-policy';
import { cleanupSteps } from '../helpers/cleanup';
import { TestRedis } from '../helpers/redis-server';
import { testRedisBroker } from '../helpers/test-brokers';
import { waitFor } from '../helpers/wait';

/** Failed plus rejected calls of `command` (INFO commandstats): how often Redis refused it, NOSCRIPT included. */
async function refusedCalls(redis: Redis, command: string): Promise<number> {
  const line = (await redis.info('commandstats')).split('\n').find((l) => l.startsWith(`cmdstat_${command}:`)) ?? '';
  return Number(/rejected_calls=(\d+)/.exec(line)?.[1] ?? 0) + Number(/failed_calls=(\d+)/.exec(line)?.[1] ?? 0);
}

/**
 * Redis forgets its scripts on SCRIPT FLUSH, a restart or a failover; each process keeps two
 * script calls per channel unanswered. Publications must survive that in order: sent again with
 * the script's text, or failed with a clear message when a later call of the channel got through
 * first, never given offsets out of the order they were made in.
 */
describe('Publishing while Redis forgets its scripts', { timeout: 60_000 }, () => {
  const cleanup = cleanupSteps();

  test('two processes publish on one channel across SCRIPT FLUSHes: every publication is stored once, in each process order, or fails with the script-lost message', { timeout: 60_000 }, async () => {
    const redis = await TestRedis.start();
    cleanup.push(() => redis.kill());
    const policies = new HistoryPolicies({ historySize: 100_000, historyTtl: 300, historyNamespaces: '' });
    const brokers = [testRedisBroker(redis.url, 'flush:', policies), testRedisBroker(redis.url, 'flush:', policies)];
    for (const broker of brokers) {
      cleanup.push(() => broker.close());
      await broker.start();
    }
    await waitFor('brokers ready', () => brokers.every((b) => b.isReady()));
    const admin = new Redis(redis.url);
    cleanup.push(async () => admin.disconnect());

    /** What each publication became: its offset, or the error it failed with. */
    const made: Array<{ process: number; data: string; keyed: boolean; outcome?: number | Error }> = [];
    const pending: Array<Promise<void>> = [];
    for (let turn = 0; turn < 300; turn++) {
      for (const [process, broker] of brokers.entries()) {
        const keyed = turn % 3 === 2;
        const data = `p${process}-t${turn}`;
        const entry: (typeof made)[number] = { process, data, keyed };
        made.push(entry);
        const publishing = keyed ? broker.publish('flushed', data, { idempotencyKey: data }) : broker.publish('flushed', data);
        pending.push(
          publishing.then(
            (r) => void (entry.outcome = r.position!.offset),
            (err: Error) => void (entry.outcome = err),
          ),
        );
      }
      if (turn % 25 === 10) await admin.script('FLUSH');
      await nextTurn();
    }
    await Promise.all(pending);

    assert.ok((await refusedCalls(admin, 'evalsha')) > 0, 'Redis answered NOSCRIPT at least once: the test covered what it is for');
    const failures = made.filter((m) => m.outcome instanceof Error);
    for (const f of failures) assert.equal((f.outcome as Error).message, SCRIPT_LOST_MESSAGE, `${f.data} failed otherwise`);
    const stored = made.filter((m) => typeof m.outcome === 'number');
    assert.ok(stored.length >= made.length * 0.9, `${stored.length} of ${made.length} stored: NOSCRIPT calls are sent again`);
    for (const process of [0, 1]) {
      const offsets = stored.filter((m) => m.process === process).map((m) => m.outcome as number);
      for (let i = 1; i < offsets.length; i++) assert.ok(offsets[i]! > offsets[i - 1]!, `process ${process}: offsets in the order of its publications (${offsets[i - 1]} then ${offsets[i]})`);
    }
    // The history holds exactly the stored publications, each at the offset its publisher was given.
    const page = await brokers[0]!.history('flushed', 0, 100_000);
    assert.equal(page!.top, stored.length);
    const byOffset = new Map(page!.publications.map((p) => [p.offset, (unpack(p.envelope) as unknown[])[1]]));
    for (const m of stored) assert.equal(byOffset.get(m.outcome as number), m.data);
  });
});
