import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestRedis } from '../helpers/redis-server';
import { ServerProcess } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

// Publishes over WebSocket: client publishing is off by default, so it is enabled here.
const BASE = ['--host', '127.0.0.1', '--port', '0', '--client-publish', '*'];

async function readyz(server: ServerProcess): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const res = await fetch(`${server.http}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
}

describe('Redis faults', { timeout: 240_000 }, () => {
  let redis: TestRedis;
  const processes: ServerProcess[] = [];
  const clients: TestClient[] = [];

  before(async () => {
    redis = await TestRedis.start();
  });
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(processes.map((p) => p.stop()));
    await redis.kill();
  });

  test('Redis killed and restarted mid-test: not ready meanwhile, then every channel is subscribed again', { timeout: 60_000 }, async () => {
    const a = await ServerProcess.start([...BASE, '--redis-url', redis.url, '--presence-namespaces', 'f:']);
    const b = await ServerProcess.start([...BASE, '--redis-url', redis.url]);
    processes.push(a, b);
    const onA = await TestClient.connect(a.wsUrl('?channels=f:1,f:2'));
    const onB = await TestClient.connect(b.wsUrl('?channels=f:1'));
    clients.push(onA, onB);
    await httpPublish(a.http, 'f:1', 'before');
    await onB.waitPublications(1, 'f:1');

    await redis.kill();
    await waitFor('a not ready', async () => (await readyz(a)).status === 503);
    const down = await readyz(a);
    assert.equal(down.body.status, 'not_ready');
    assert.match(down.body.reason ?? '', /redis/);
    const presence = await fetch(`${a.http}/v1/channels/f:1/presence`, { signal: AbortSignal.timeout(10_000) });
    assert.deepEqual([presence.status, ((await presence.json()) as { error: string }).error], [503, 'broker_unavailable'], 'presence cannot be read while Redis is down');
    const failed = await httpPublish(a.http, 'f:1', 'while down');
    assert.deepEqual([failed.status, failed.json.error], [503, 'broker_unavailable']);
    const wsFailed = await onA.command(3, 'f:2', 'while down');
    assert.deepEqual(wsFailed.slice(0, 3), [2, 1, 105]);

    await redis.restart();
    await waitFor('a ready', async () => (await readyz(a)).status === 200, 10_000);
    await waitFor('b ready', async () => (await readyz(b)).status === 200, 10_000);
    // Resubscription is confirmed by Redis itself: both processes are back on f:1.
    await waitFor('resubscribed', async () => {
      const conn = redis.client();
      try {
        const [, n1, , n2] = (await conn.pubsub('NUMSUB', 'bc:f:1', 'bc:f:2')) as [string, number, string, number];
        return Number(n1) === 2 && Number(n2) === 1;
      } finally {
        conn.disconnect();
      }
    });
    await httpPublish(b.http, 'f:1', 'after');
    await httpPublish(b.http, 'f:2', 'after 2');
    assert.deepEqual((await onA.waitPublications(2, 'f:1')).map((p) => p.data.toString()), ['before', 'after']);
    assert.deepEqual((await onB.waitPublications(2, 'f:1')).map((p) => p.data.toString()), ['before', 'after']);
    assert.deepEqual((await onA.waitPublications(1, 'f:2')).map((p) => p.data.toString()), ['after 2']);
    // The log arrives on another pipe than the deliveries: wait for it rather than assume it came first.
    await waitFor('a to log its resubscription', () => a.logs.some((l) => l.msg === 'resubscribing channels' && l.channels === 2));
    assert.equal(onA.closed, null, 'clients stay connected through a Redis outage');
  });

  test('Redis unreachable at start: the process stays up, answers 503, and becomes ready when Redis appears', { timeout: 60_000 }, async () => {
    const later = await TestRedis.start();
    await later.kill();
    const server = await ServerProcess.start([...BASE, '--redis-url', later.url]);
    processes.push(server);
    const client = await TestClient.connect(server.wsUrl('?channels=late:1'));
    clients.push(client);
    const before = await readyz(server);
    assert.equal(before.status, 503);
    assert.match(before.body.reason ?? '', /redis unreachable/);
    assert.equal((await fetch(`${server.http}/healthz`)).status, 200, 'alive while not ready');
    await later.restart();
    try {
      await waitFor('ready', async () => (await readyz(server)).status === 200, 10_000);
      // The subscription made while Redis was down is made when it returns.
      await waitFor('subscribed', async () => {
        const conn = later.client();
        try {
          return Number(((await conn.pubsub('NUMSUB', 'bc:late:1')) as [string, number])[1]) === 1;
        } finally {
          conn.disconnect();
        }
      });
      await httpPublish(server.http, 'late:1', 'hello');
      assert.deepEqual((await client.waitPublications(1, 'late:1'))[0]!.data, Buffer.from('hello'));
    } finally {
      await client.close();
      await server.stop();
      await later.kill();
    }
  });
});
