import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pack } from 'msgpackr';
import { Command } from '../../src/protocol/opcodes';
import { freePort } from '../helpers/free-port';
import { scrapeMetrics } from '../helpers/metrics-text';
import { TestRedis } from '../helpers/redis-server';
import { ServerProcess } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

// The scenarios publish over WebSocket: client publishing is off by default, so it is enabled here.
const BASE = ['--workers', '1', '--port', '0', '--host', '127.0.0.1', '--client-publish', '*'];

/** GET `url` and return status and parsed JSON body. */
async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

describe('admin port: Prometheus metrics and health', { timeout: 240_000 }, () => {
  test('counters match a scripted scenario: 5 subscribers, 1 publisher, 7 HTTP + 3 WebSocket messages', { timeout: 60_000 }, async () => {
    const adminPort = await freePort();
    const server = await ServerProcess.start([...BASE, '--admin-port', String(adminPort)]);
    const clients: TestClient[] = [];
    try {
      const admin = `http://127.0.0.1:${adminPort}`;
      await server.waitForLog('the admin listening line', (l) => l.msg === 'admin listening' && l.port === adminPort && l.host === '127.0.0.1');
      for (let i = 0; i < 5; i++) clients.push(await TestClient.connect(server.wsUrl(i < 2 ? '?channels=m:1,m:2' : '?channels=m:1')));
      const publisher = await TestClient.connect(server.wsUrl());
      clients.push(publisher);
      await assert.rejects(TestClient.connect(server.wsUrl('?channels=bad%20name')), (err: Error & { status?: number }) => err.status === 400);

      for (let i = 0; i < 7; i++) assert.equal((await httpPublish(server.http, 'm:1', Buffer.alloc(10 + i, i))).status, 200);
      let expectedBytesIn = 0;
      for (let i = 0; i < 3; i++) {
        const data = Buffer.alloc(100, i);
        expectedBytesIn += pack([Command.Publish, i + 1, 'm:2', data]).length;
        const reply = await publisher.command(Command.Publish, 'm:2', data);
        assert.deepEqual(reply.slice(0, 2), [1, i + 1], 'ok reply');
      }
      // Every receiver gets the same frame bytes; msgpack re-encodes the decoded frame to them.
      let expectedBytesOut = 0;
      for (const [i, client] of clients.slice(0, 5).entries()) {
        await client.waitPublications(7, 'm:1');
        if (i < 2) await client.waitPublications(3, 'm:2');
        for (const frame of client.frames.filter((f) => f[0] === 0)) expectedBytesOut += pack(frame).length;
      }

      const m = await scrapeMetrics(`${admin}/metrics`);
      const expected: Record<string, number> = {
        broadcaster_connections: 6,
        broadcaster_connections_opened_total: 6,
        broadcaster_connections_closed_total: 0,
        broadcaster_handshakes_refused_total: 1,
        broadcaster_subscriptions: 7,
        broadcaster_channels: 2,
        'broadcaster_messages_in_total{transport="http"}': 7,
        'broadcaster_messages_in_total{transport="ws"}': 3,
        broadcaster_commands_in_total: 3,
        broadcaster_bytes_in_total: expectedBytesIn,
        broadcaster_broker_messages_total: 10,
        broadcaster_messages_out_total: 7 * 5 + 3 * 2,
        broadcaster_bytes_out_total: expectedBytesOut,
        broadcaster_publish_failures_total: 0,
        broadcaster_internal_errors_total: 0,
        broadcaster_abnormal_closes_total: 0,
        broadcaster_backpressure_bytes: 0,
        'broadcaster_broker_up{broker="memory"}': 1,
        broadcaster_ready: 1,
        // Every publication (history is on by default) carries its storage time: 10 observed.
        broadcaster_publish_to_fanout_seconds_count: 10,
        'broadcaster_publish_to_fanout_seconds_bucket{le="+Inf"}': 10,
      };
      for (const [name, value] of Object.entries(expected)) assert.equal(m.get(name), value, name);
      assert.ok((m.get('broadcaster_publish_to_fanout_seconds_bucket{le="5"}') ?? 0) === 10, 'all within 5 s');
      // Ten latencies of at most 5 s each (the le="5" bucket holds all ten).
      const sum = m.get('broadcaster_publish_to_fanout_seconds_sum') ?? -1;
      assert.ok(sum >= 0 && sum <= 10 * 5, `sum of 10 latencies within 5 s each: ${sum}`);
      assert.ok((m.get('broadcaster_nodejs_eventloop_lag_seconds') ?? -1) >= 0, 'event-loop lag exported');
      assert.ok((m.get('broadcaster_process_resident_memory_bytes') ?? 0) > 0, 'process metrics exported');
      for (const name of m.keys()) assert.match(name, /^broadcaster_/);

      await clients[0]!.close();
      await clients[1]!.close();
      await waitFor('the server to count 2 closed connections', async () => (await scrapeMetrics(`${admin}/metrics`)).get('broadcaster_connections') === 4);
      const after = await scrapeMetrics(`${admin}/metrics`);
      assert.equal(after.get('broadcaster_connections_closed_total'), 2);
      assert.equal(after.get('broadcaster_subscriptions'), 3);

      // Same health answers as the public port.
      for (const path of ['/healthz', '/readyz']) {
        assert.deepEqual(await getJson(`${admin}${path}`), await getJson(`${server.http}${path}`), path);
      }
      assert.equal((await fetch(`${admin}/nothing`)).status, 404);
      assert.equal((await fetch(`${admin}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      await Promise.allSettled(clients.map((c) => c.close()));
      await server.stop();
    }
  });

  test('Redis state: broker_up drops to 0 and /readyz to 503 while Redis is down, reconnects are counted', { timeout: 60_000 }, async () => {
    const redis = await TestRedis.start();
    const adminPort = await freePort();
    const server = await ServerProcess.start([...BASE, '--admin-port', String(adminPort), '--redis-url', redis.url]);
    const admin = `http://127.0.0.1:${adminPort}`;
    const up = async (): Promise<number | undefined> => (await scrapeMetrics(`${admin}/metrics`)).get('broadcaster_broker_up{broker="redis"}');
    try {
      await waitFor('broker up', async () => (await up()) === 1);
      assert.equal((await scrapeMetrics(`${admin}/metrics`)).get('broadcaster_broker_reconnects_total'), 0);
      await redis.kill();
      await waitFor('broker down', async () => (await up()) === 0);
      const down = await getJson(`${admin}/readyz`);
      assert.equal(down.status, 503);
      // Both listeners give the same answer; the reason's detail (the last connect error) may change between the two reads.
      const publicDown = await getJson(`${server.http}/readyz`);
      for (const answer of [down, publicDown]) {
        assert.equal(answer.status, 503);
        const body = answer.body as { status: string; broker: string; reason: string };
        assert.deepEqual(Object.keys(body).sort(), ['broker', 'reason', 'status']);
        assert.equal(body.status, 'not_ready');
        assert.equal(body.broker, 'redis');
        assert.match(body.reason, /^redis unreachable/);
      }
      assert.equal((await scrapeMetrics(`${admin}/metrics`)).get('broadcaster_ready'), 0);
      await redis.restart();
      await waitFor('broker up again', async () => (await up()) === 1, 10_000);
      const m = await scrapeMetrics(`${admin}/metrics`);
      assert.equal(m.get('broadcaster_broker_reconnects_total'), 1);
      assert.equal(m.get('broadcaster_ready'), 1);
    } finally {
      await server.stop();
      await redis.kill();
    }
  });

  test('two independent instances start side by side with the defaults (admin disabled); a taken admin port is a clear error', { timeout: 60_000 }, async () => {
    const a = await ServerProcess.start([...BASE]);
    const b = await ServerProcess.start([...BASE]);
    try {
      assert.ok(!a.logs.some((l) => l.msg === 'admin listening'));
      assert.ok(!b.logs.some((l) => l.msg === 'admin listening'));
      const adminPort = await freePort();
      const c = await ServerProcess.start([...BASE, '--admin-port', String(adminPort)]);
      try {
        await assert.rejects(ServerProcess.start([...BASE, '--admin-port', String(adminPort)]), /cannot listen for admin requests on 127\.0\.0\.1:\d+: EADDRINUSE; choose another --admin-port/);
      } finally {
        await c.stop();
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
