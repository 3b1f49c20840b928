import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort } from '../helpers/free-port';
import { scrapeMetrics } from '../helpers/metrics-text';
import { cleanupSteps } from '../helpers/cleanup';
import { RecoveringClient } from '../helpers/recovering-client';
import { TestRedis } from '../helpers/redis-server';
import { historyData, publishSequence } from '../helpers/sequence-publisher';
import { type ServerProcess, startReady } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

const HISTORY = ['--history-size', '1000', '--history-ttl', '600'];

function start(redis: TestRedis, extra: string[] = []): Promise<ServerProcess> {
  return startReady(redis.url, [...HISTORY, ...extra]);
}

/** Regressions found by the chaos run (scripts/chaos.ts, docs/RELIABILITY.md). */
describe('chaos regressions (Redis)', { timeout: 360_000 }, () => {
  const cleanup = cleanupSteps();

  test('a publish in flight when a stalled Redis connection is dropped is never executed twice', { timeout: 90_000 }, async () => {
    const redis = await TestRedis.start();
    cleanup.push(async () => {
      redis.signal('SIGCONT');
      await redis.kill();
    });
    const a = await start(redis, ['--redis-probe-interval', '200', '--redis-probe-timeout', '600']);
    cleanup.push(() => a.stop());
    // Loads the publish script into Redis, so the stalled EVALSHA below is runnable as sent.
    await publishSequence([a.http], 'once:1', 1);
    redis.signal('SIGSTOP');
    // Written to the publisher connection while Redis is stalled: no reply comes.
    const reply = fetch(`${a.http}/v1/channels/once:1/publish`, { method: 'POST', body: 'once', signal: AbortSignal.timeout(15_000) });
    await waitFor('the probe to give up on the publisher connection', () => a.logs.some((l) => l.role === 'publisher' && /stalled/.test(String(l.msg))), 5000);
    // The dropped socket closes after ioredis's disconnectTimeout (2 s); the client then reconnects
    // and would resend what was unanswered. Resume Redis only once the publisher connection closed.
    await waitFor('the publisher connection closed', async () => {
      const body = (await (await fetch(`${a.http}/readyz`)).json()) as { reason?: string };
      return /unreachable|publisher connection down/.test(body.reason ?? '');
    }, 10_000);
    redis.signal('SIGCONT');
    // Redis runs the command it had already read from the dropped connection; the server must not send it again.
    const status = (await reply).status;
    await waitFor('ready again', async () => (await fetch(`${a.http}/readyz`)).status === 200, 10_000);
    const stored = (await historyData(a.http, 'once:1')).data.filter((d) => d === 'once').length;
    assert.ok(stored <= 1, `the publication is stored ${stored} times`);
    if (status === 200) assert.equal(stored, 1, 'an acknowledged publication is stored');
    else assert.equal(status, 503);
    // The publisher connection works again, and its probe too.
    await publishSequence([a.http], 'once:1', 1, 0, 2);
    assert.deepEqual((await historyData(a.http, 'once:1')).data.filter((d) => d !== 'once'), ['1', '2']);
  });

  test(
    'a resync (subscribe from a position while subscribed) that fails with 105 leaves the channel subscribed',
    { timeout: 90_000 },
    async () => {
      const redis = await TestRedis.start();
      cleanup.push(() => redis.kill());
      const a = await start(redis);
      cleanup.push(() => a.stop());
      const c = await TestClient.connect(a.wsUrl(''));
      cleanup.push(() => c.close());
      const [, , position] = await c.command(1, 'kept:1');
      await httpPublish(a.http, 'kept:1', 'one');
      await c.waitPublications(1);
      await redis.kill();
      await waitFor('not ready', async () => (await fetch(`${a.http}/readyz`)).status === 503);
      // The resync cannot read history: an error reply, and the subscription must still stand.
      const reply = await c.command(1, 'kept:1', 1, (position as { epoch: string }).epoch);
      assert.deepEqual(reply.slice(0, 3), [2, 2, 105]);
      await redis.restart();
      await waitFor('ready', async () => (await fetch(`${a.http}/readyz`)).status === 200, 10_000);
      await httpPublish(a.http, 'kept:1', 'two');
      await c.waitPublications(2);
    },
  );

  test('a subscriber reconnect that missed nothing counts no gap repair', { timeout: 90_000 }, async () => {
    const redis = await TestRedis.start();
    cleanup.push(() => redis.kill());
    const adminPort = await freePort();
    const a = await start(redis, ['--admin-port', String(adminPort)]);
    cleanup.push(() => a.stop());
    const client = new RecoveringClient([a.wsUrl()], ['quiet:1']);
    cleanup.push(() => client.stop());
    await client.start();
    await publishSequence([a.http], 'quiet:1', 3);
    await waitFor('3 publications', () => client.logs.get('quiet:1')!.data.length === 3);
    const admin = redis.client();
    cleanup.push(async () => admin.disconnect());
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitFor('the subscriber to reconnect', () => a.logs.filter((l) => l.msg === 'resubscribing channels').length === 1);
    // Once the broker is ready again the subscription stands and the history check has started; it
    // holds publications back until it is done, so once the next one arrives the check has been counted.
    await waitFor('the broker to be ready again', async () => (await scrapeMetrics(`http://127.0.0.1:${adminPort}/metrics`)).get('broadcaster_broker_reconnects_total') === 1);
    await publishSequence([a.http], 'quiet:1', 1, 0, 4);
    await waitFor('the 4th publication', () => client.logs.get('quiet:1')!.data.length === 4);
    const m = await scrapeMetrics(`http://127.0.0.1:${adminPort}/metrics`);
    assert.equal(m.get('broadcaster_gaps_detected_total'), 0);
    assert.equal(m.get('broadcaster_gaps_repaired_total'), 0);
    assert.equal(m.get('broadcaster_broker_reconnects_total'), 1);
  });
});
