import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cleanupSteps } from '../helpers/cleanup';
import { freePort } from '../helpers/free-port';
import { scrapeMetrics } from '../helpers/metrics-text';
import { RecoveringClient } from '../helpers/recovering-client';
import { TestRedis } from '../helpers/redis-server';
import { historyData, publishSequence } from '../helpers/sequence-publisher';
import { type ServerProcess, readyzStatus, startReady } from '../helpers/server-process';
import { sleep, waitFor } from '../helpers/wait';

const HISTORY = ['--history-size', '5000', '--history-ttl', '600'];

const readyz = readyzStatus;

/** Starts a server with an admin port; returns it with a reader of its metrics. */
async function startWithMetrics(redis: TestRedis, extra: string[] = []): Promise<{ server: ServerProcess; metrics: () => Promise<Map<string, number>> }> {
  const adminPort = await freePort();
  const server = await start(redis, [...extra, '--admin-port', String(adminPort)]);
  return { server, metrics: () => scrapeMetrics(`http://127.0.0.1:${adminPort}/metrics`) };
}

/** The server repaired its own gaps: the test client never saw an offset jump nor a resync notice. */
function assertClientDidNotRepair(clients: RecoveringClient[], channel: string): void {
  for (const [i, client] of clients.entries()) {
    const log = client.logs.get(channel)!;
    assert.deepEqual([log.gaps, log.resyncs], [0, 0], `client ${i} saw no offset gap and no resync: the server filled them`);
  }
}

/** Starts a server on `redis` and waits until it is ready (connected to Redis). */
function start(redis: TestRedis, extra: string[] = []): Promise<ServerProcess> {
  return startReady(redis.url, [...HISTORY, ...extra]);
}

/**
 * Every client's sequence on `channel` equals the channel's history exactly (order included).
 * The history holds every one of the `count` messages; a publish retried after its reply was lost
 * in an outage may stand in it twice, and then the clients must see it twice too.
 */
async function assertComplete(clients: RecoveringClient[], server: ServerProcess, channel: string, count: number): Promise<void> {
  const expected = await historyData(server.http, channel);
  assert.equal(new Set(expected.data).size, count, `history holds all ${count} publications`);
  for (const [i, client] of clients.entries()) {
    await waitFor(`client ${i} to receive ${expected.data.length}`, () => client.logs.get(channel)!.data.length >= expected.data.length, 15_000);
    const log = client.logs.get(channel)!;
    assert.deepEqual(log.data, expected.data, `client ${i} has the complete sequence in order`);
    assert.equal(log.duplicates, 0, `client ${i} duplicates`);
  }
}

describe('no silent loss with Redis', { timeout: 480_000 }, () => {
  const cleanup = cleanupSteps();

  test('recovery across a server process restart (SIGTERM, reconnect to another process)', { timeout: 120_000 }, async () => {
    const redis = await TestRedis.start();
    cleanup.push(() => redis.kill());
    const a = await start(redis);
    const b = await start(redis);
    cleanup.push(() => a.stop(), () => b.stop());
    const client = new RecoveringClient([a.wsUrl(), b.wsUrl()], ['restart:1']);
    cleanup.push(() => client.stop());
    await client.start();
    const publishing = publishSequence([b.http], 'restart:1', 200, 2);
    await waitFor('some publications', () => client.logs.get('restart:1')!.data.length > 20);
    a.signal('SIGTERM');
    assert.equal(await a.exited(), 0);
    await publishing;
    await assertComplete([client], b, 'restart:1', 200);
    assert.deepEqual(client.closes, [1001]);
    assert.deepEqual(client.logs.get('restart:1')!.recovered, [true]);
  });

  test('Redis killed and restarted mid-stream (AOF): clients on two processes end with the complete sequence', { timeout: 120_000 }, async () => {
    const redis = await TestRedis.start({ persistent: true });
    cleanup.push(() => redis.kill());
    const { server: a, metrics: metricsA } = await startWithMetrics(redis);
    const { server: b, metrics: metricsB } = await startWithMetrics(redis);
    cleanup.push(() => a.stop(), () => b.stop());
    const clients = [new RecoveringClient([a.wsUrl()], ['outage:1']), new RecoveringClient([b.wsUrl()], ['outage:1'])];
    cleanup.push(...clients.map((c) => () => c.stop()));
    await Promise.all(clients.map((c) => c.start()));
    const publishing = publishSequence([a.http, b.http], 'outage:1', 400, 2);
    await waitFor('some publications', () => clients.every((c) => c.logs.get('outage:1')!.data.length > 50));
    await redis.kill();
    await waitFor('a not ready', async () => (await readyz(a)) === 503);
    await sleep(300);
    await redis.restart();
    await publishing;
    await assertComplete(clients, a, 'outage:1', 400);
    assertClientDidNotRepair(clients, 'outage:1');
    await a.waitForLog('the resubscribe log line', (l) => l.msg === 'resubscribing channels');
    for (const metrics of [metricsA, metricsB]) {
      const m = await metrics();
      assert.equal(m.get('broadcaster_broker_reconnects_total'), 1);
      // Whatever a process missed while Redis was away it repaired itself: nothing announced.
      assert.equal(m.get('broadcaster_gaps_repaired_total'), m.get('broadcaster_gaps_detected_total'));
      assert.equal(m.get('broadcaster_resyncs_sent_total'), 0);
    }
  });

  test('subscriber cut by client-output-buffer-limit: the process fills the gap from history', { timeout: 120_000 }, async () => {
    const redis = await TestRedis.start();
    cleanup.push(() => redis.kill());
    // A backlog big enough for the whole repaired burst (9.6 MB), so the client keeps its connection.
    const { server: a, metrics } = await startWithMetrics(redis, ['--max-backpressure', String(32 * 1024 * 1024)]);
    const b = await start(redis);
    cleanup.push(() => a.stop(), () => b.stop());
    const admin = redis.client();
    cleanup.push(async () => admin.disconnect());
    await admin.config('SET', 'client-output-buffer-limit', 'pubsub 64kb 32kb 1');
    const client = new RecoveringClient([a.wsUrl()], ['cut:1']);
    cleanup.push(() => client.stop());
    await client.start();
    // Freeze process a so its subscriber stops reading: once the kernel buffers are full, Redis
    // queues output for it and cuts it at 64 KB.
    a.signal('SIGSTOP');
    const big = 'x'.repeat(16_000);
    for (let i = 1; i <= 600; i++) {
      const res = await fetch(`${b.http}/v1/channels/cut:1/publish`, { method: 'POST', body: `${i}${big}` });
      assert.equal(res.status, 200);
    }
    a.signal('SIGCONT');
    await waitFor('a resubscribed', () => a.logs.some((l) => l.msg === 'resubscribing channels'));
    // Nothing is published now: only the process's own check after its reconnect can deliver the
    // publications its subscriber lost (a client sees no gap without a newer publication).
    await assertComplete([client], b, 'cut:1', 600);
    assertClientDidNotRepair([client], 'cut:1');
    const repaired = await metrics();
    assert.equal(repaired.get('broadcaster_gaps_detected_total'), 1, 'the one gap the cut made');
    assert.equal(repaired.get('broadcaster_gaps_repaired_total'), 1);
    assert.equal(repaired.get('broadcaster_resyncs_sent_total'), 0);
    assert.ok((repaired.get('broadcaster_broker_reconnects_total') ?? 0) >= 1);
    for (let i = 601; i <= 620; i++) await fetch(`${b.http}/v1/channels/cut:1/publish`, { method: 'POST', body: `${i}${big}` });
    await assertComplete([client], b, 'cut:1', 620);
    assertClientDidNotRepair([client], 'cut:1');
    assert.equal(client.connections, 1, 'the client itself was never disconnected');
    const subscriberReady = a.logs.filter((l) => l.msg === 'redis connection ready' && l.role === 'subscriber').length;
    assert.equal(subscriberReady, 2, 'the subscriber connection was cut and reopened');
  });

  test('FLUSHALL loses the history: an epoch change is announced and recovery reports recovered: false', { timeout: 120_000 }, async () => {
    const redis = await TestRedis.start();
    cleanup.push(() => redis.kill());
    const a = await start(redis);
    cleanup.push(() => a.stop());
    const client = new RecoveringClient([a.wsUrl()], ['flush:1']);
    cleanup.push(() => client.stop());
    await client.start();
    const before = client.positions.get('flush:1')!.epoch;
    await publishSequence([a.http], 'flush:1', 5);
    await waitFor('5', () => client.logs.get('flush:1')!.data.length === 5);
    const admin = redis.client();
    await admin.flushall();
    admin.disconnect();
    await publishSequence([a.http], 'flush:1', 3, 0, 6);
    await waitFor('resync handled', () => client.logs.get('flush:1')!.recovered.length === 1);
    const log = client.logs.get('flush:1')!;
    assert.equal(log.resyncs, 1);
    // The old epoch cannot be recovered: the application reloads its state and goes on from the new position.
    assert.deepEqual(log.recovered, [false]);
    assert.notEqual(client.positions.get('flush:1')!.epoch, before);
    assert.deepEqual(log.data.slice(0, 5), ['1', '2', '3', '4', '5']);
    await publishSequence([a.http], 'flush:1', 1, 0, 9);
    await waitFor('live again', () => log.data.at(-1) === '9');
    assert.equal(client.positions.get('flush:1')!.offset, 4, 'the fourth publication of the new epoch');
  });

  test('stalled Redis (SIGSTOP): detected by the probe, /readyz 503, then back without loss', { timeout: 120_000 }, async () => {
    const redis = await TestRedis.start();
    cleanup.push(async () => {
      redis.signal('SIGCONT');
      await redis.kill();
    });
    const { server: a, metrics } = await startWithMetrics(redis, ['--redis-probe-interval', '200', '--redis-probe-timeout', '600']);
    cleanup.push(() => a.stop());
    const client = new RecoveringClient([a.wsUrl()], ['stall:1']);
    cleanup.push(() => client.stop());
    await client.start();
    await publishSequence([a.http], 'stall:1', 50);
    redis.signal('SIGSTOP');
    await waitFor('not ready', async () => (await readyz(a)) === 503, 5000);
    // the log line travels through the process's stdout: it may come after /readyz answered
    await a.waitForLog('the stalled-connection warning', (l) => /stalled/.test(String(l.msg)));
    const failed = await fetch(`${a.http}/v1/channels/stall:1/publish`, { method: 'POST', body: 'x' });
    assert.equal(failed.status, 503);
    redis.signal('SIGCONT');
    await waitFor('ready', async () => (await readyz(a)) === 200, 10_000);
    await publishSequence([a.http], 'stall:1', 50, 0, 51);
    await assertComplete([client], a, 'stall:1', 100);
    assertClientDidNotRepair([client], 'stall:1');
    const m = await metrics();
    // Both connections (subscriber and publisher) were reopened because their probe went unanswered.
    assert.equal(m.get('broadcaster_broker_probe_failures_total'), 2);
    await a.waitForLog('the subscriber stalled warning', (l) => l.role === 'subscriber' && /stalled/.test(String(l.msg)));
  });

  test('a slow consumer that stops reading is closed; it recovers everything; a fast one is unaffected', { timeout: 120_000 }, async () => {
    const redis = await TestRedis.start();
    cleanup.push(() => redis.kill());
    const a = await start(redis, ['--max-backpressure', '65536', '--max-message-size', '32768']);
    cleanup.push(() => a.stop());
    const fast = new RecoveringClient([a.wsUrl()], ['slow:1']);
    const slow = new RecoveringClient([a.wsUrl()], ['slow:1']);
    cleanup.push(() => fast.stop(), () => slow.stop());
    await Promise.all([fast.start(), slow.start()]);
    const socket = (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const payload = (i: number) => `${i}:${'y'.repeat(16_000)}`;
    for (let i = 1; i <= 600; i++) {
      const res = await fetch(`${a.http}/v1/channels/slow:1/publish`, { method: 'POST', body: payload(i) });
      assert.equal(res.status, 200);
    }
    await waitFor('fast got all', () => fast.logs.get('slow:1')!.data.length === 600);
    socket.resume();
    const done = () => slow.logs.get('slow:1')!.data.length === 600 && slow.logs.get('slow:1')!.recovered.length === 1;
    await waitFor('slow closed and recovered', done, 20_000).catch((err: Error) => {
      const log = slow.logs.get('slow:1')!;
      throw new Error(`${err.message}: closes ${slow.closes}, got ${log.data.length}, gaps ${log.gaps}, duplicates ${log.duplicates}, recovered ${log.recovered}`);
    });
    // 4002 with a reason where uWS reports drops (current build); the legacy build cuts the socket (1006).
    const build = a.logs.find((l) => l.msg === 'uWebSockets.js native build loaded')?.uwsBuild;
    assert.deepEqual(slow.closes, [build === 'current' ? 4002 : 1006], 'closed for its backlog');
    assert.deepEqual(slow.logs.get('slow:1')!.recovered, [true]);
    const expected = Array.from({ length: 600 }, (_, i) => payload(i + 1));
    assert.deepEqual(fast.logs.get('slow:1')!.data, expected);
    assert.deepEqual(slow.logs.get('slow:1')!.data, expected);
    assert.equal(fast.connections, 1);
  });
});
