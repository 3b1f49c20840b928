import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command, ErrorCode } from '../../src/protocol/opcodes';
import { cleanupSteps } from '../helpers/cleanup';
import { TestRedis } from '../helpers/redis-server';
import { readyzStatus, startReady } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

const TIMEOUT = { timeout: 60_000 };

/** Documented answers that need Redis: outages, a subscribe still in progress, history expiry. */
describe('documented answers (Redis)', { timeout: 180_000 }, () => {
  const cleanup = cleanupSteps();

  test('reply 107: subscribe or unsubscribe of a channel whose subscribe is not answered yet', TIMEOUT, async () => {
    const redis = await TestRedis.start();
    cleanup.push(async () => {
      redis.signal('SIGCONT');
      await redis.kill();
    });
    // A long probe timeout: the stalled Redis must keep the SUBSCRIBE unanswered, not get dropped.
    const server = await startReady(redis.url, ['--redis-probe-timeout', '60000']);
    cleanup.push(() => server.stop());
    const c = await TestClient.connect(server.wsUrl());
    cleanup.push(() => c.close());
    redis.signal('SIGSTOP');
    // The first subscribe waits for Redis to confirm the SUBSCRIBE; Redis is stopped.
    const first = c.command(Command.Subscribe, 'slow:1');
    const message = 'a subscribe of slow:1 is still in progress on this connection';
    assert.deepEqual(await c.command(Command.Subscribe, 'slow:1'), [2, 2, ErrorCode.SubscriptionInProgress, message]);
    assert.deepEqual(await c.command(Command.Unsubscribe, 'slow:1'), [2, 3, ErrorCode.SubscriptionInProgress, message]);
    assert.equal((await c.command(Command.Ping))[0], 1, 'other commands go on');
    redis.signal('SIGCONT');
    assert.equal((await first)[0], 1, 'answered once Redis confirmed');
    assert.deepEqual(await c.command(Command.Unsubscribe, 'slow:1'), [1, 5, null]);
  });

  test('Redis down: since= recovery answers [2, nil, 105] and subscribes live; history answers 503', TIMEOUT, async () => {
    const redis = await TestRedis.start();
    cleanup.push(() => redis.kill());
    const server = await startReady(redis.url, []);
    cleanup.push(() => server.stop());
    const first = await TestClient.connect(server.wsUrl());
    cleanup.push(() => first.close());
    const { epoch } = (await first.command(Command.Subscribe, 'down:1'))[2] as { epoch: string };
    await httpPublish(server.http, 'down:1', 'one');
    await redis.kill();
    await waitFor('not ready', async () => (await readyzStatus(server)) === 503);
    const history = await fetch(`${server.http}/v1/channels/down:1/history`);
    assert.deepEqual([history.status, ((await history.json()) as { error: string }).error], [503, 'broker_unavailable']);
    const back = await TestClient.connect(server.wsUrl(`?channels=down:1&since=down:1:0:${epoch}`));
    cleanup.push(() => back.close());
    await back.until('error 105', () => back.frames.some((f) => f[0] === 2));
    const error = back.frames.find((f) => f[0] === 2)!;
    assert.deepEqual(error.slice(0, 3), [2, null, ErrorCode.BrokerUnavailable]);
    assert.match(String(error[3]), /^down:1: history could not be read/);
    await redis.restart();
    await waitFor('ready', async () => (await readyzStatus(server)) === 200, 10_000);
    // Subscribed without recovery: live publications arrive.
    await httpPublish(server.http, 'down:1', 'after');
    assert.deepEqual((await back.waitPublications(1)).map((p) => String(p.data)), ['after']);
    assert.equal(back.closed, null);
  });

  test('--history-ttl: history expires after the last publication; recovery then reports recovered: false', TIMEOUT, async () => {
    const redis = await TestRedis.start();
    cleanup.push(() => redis.kill());
    const server = await startReady(redis.url, ['--history-ttl', '1', '--history-meta-ttl', '600']);
    cleanup.push(() => server.stop());
    const admin = redis.client();
    cleanup.push(async () => admin.disconnect());
    const c = await TestClient.connect(server.wsUrl());
    cleanup.push(() => c.close());
    const { epoch } = (await c.command(Command.Subscribe, 'ttl:1'))[2] as { epoch: string };
    for (let i = 1; i <= 3; i++) await httpPublish(server.http, 'ttl:1', String(i));
    assert.ok((await admin.pttl('bc:h:ttl:1')) <= 1000);
    await waitFor('the history to expire', async () => (await admin.exists('bc:h:ttl:1')) === 0);
    const late = await TestClient.connect(server.wsUrl());
    cleanup.push(() => late.close());
    // The counter and epoch live on (--history-meta-ttl): same epoch, offset 3, but nothing to recover.
    assert.deepEqual((await late.command(Command.Subscribe, 'ttl:1', 1, epoch))[2], { offset: 3, epoch, recovered: false });
    assert.equal(late.publications().length, 0);
    const page = (await (await fetch(`${server.http}/v1/channels/ttl:1/history`)).json()) as { epoch: string; offset: number; publications: unknown[] };
    assert.deepEqual(page, { channel: 'ttl:1', epoch, offset: 3, publications: [] });
  });

  test('--history-meta-ttl: once the counter expires the channel starts a new epoch at offset 1, announced to subscribers', TIMEOUT, async () => {
    const redis = await TestRedis.start();
    cleanup.push(() => redis.kill());
    const server = await startReady(redis.url, ['--history-ttl', '1', '--history-meta-ttl', '1']);
    cleanup.push(() => server.stop());
    const admin = redis.client();
    cleanup.push(async () => admin.disconnect());
    const c = await TestClient.connect(server.wsUrl('?channels=meta:1&positions=1'));
    cleanup.push(() => c.close());
    await c.until('position', () => c.frames.some((f) => f[0] === 3));
    const first = await httpPublish(server.http, 'meta:1', 'old');
    await waitFor('the counter to expire', async () => (await admin.exists('bc:m:meta:1')) === 0);
    const second = await httpPublish(server.http, 'meta:1', 'new');
    assert.equal(second.json.offset, 1, 'offsets restart at 1');
    assert.notEqual(second.json.epoch, first.json.epoch, 'a new epoch');
    await c.waitPublications(2);
    assert.deepEqual(c.frames.filter((f) => f[0] !== 3).map((f) => (f[0] === 4 ? [4, f[1]] : [f[0], f[2], String(f[3])])), [
      [0, 1, 'old'],
      [4, 'meta:1'],
      [0, 1, 'new'],
    ]);
  });
});
