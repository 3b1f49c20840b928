import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pack } from 'msgpackr';
import { Publisher } from '../../src/publisher/publisher';
import { freePort } from '../helpers/free-port';
import { scrapeMetrics } from '../helpers/metrics-text';
import { TestRedis } from '../helpers/redis-server';
import { type ServerProcess, startReadyWith } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

// Publishes over WebSocket: client publishing is off by default, so it is enabled here.
const BASE = ['--host', '127.0.0.1', '--log-level', 'info', '--client-publish', '*'];

describe('several processes on one Redis', { timeout: 240_000 }, () => {
  let redis: TestRedis;
  let a: ServerProcess;
  let b: ServerProcess;
  let c: ServerProcess;
  let d: ServerProcess;
  let adminC: number;
  let adminD: number;
  const clients: TestClient[] = [];
  const connect = async (server: ServerProcess, query: string): Promise<TestClient> => {
    const client = await TestClient.connect(server.wsUrl(query));
    clients.push(client);
    return client;
  };
  const numsub = async (channel: string): Promise<number> => {
    const conn = redis.client();
    try {
      const reply = (await conn.pubsub('NUMSUB', channel)) as [string, number];
      return Number(reply[1]);
    } finally {
      conn.disconnect();
    }
  };

  before(async () => {
    redis = await TestRedis.start();
    // Ready, not only listening: the tests subscribe and publish at once.
    a = await startReadyWith([...BASE, '--port', '0', '--redis-url', redis.url]);
    b = await startReadyWith([...BASE, '--port', '0', '--redis-url', redis.url]);
    // c and d share one port through SO_REUSEPORT (a port the kernel picked for port 0 is not shareable).
    const shared = String(await freePort());
    adminC = await freePort();
    c = await startReadyWith([...BASE, '--port', shared, '--redis-url', redis.url, '--admin-port', String(adminC)]);
    adminD = await freePort();
    d = await startReadyWith([...BASE, '--port', shared, '--redis-url', redis.url, '--admin-port', String(adminD)]);
  });
  after(async () => {
    await Promise.allSettled(clients.map((cl) => cl.close()));
    await Promise.allSettled([a, b, c, d].map((s) => s.stop()));
    await redis.kill();
  });

  test('two processes on one port: wherever a client lands, it gets every message', { timeout: 60_000 }, async () => {
    assert.equal(d.port, c.port);
    // The kernel spreads these connections over both listeners of the shared port: connect until
    // each process holds at least one (a bounded loop; 16 land on one process with p = 2^-15).
    const connectionsOn = async (adminPort: number): Promise<number> =>
      (await scrapeMetrics(`http://127.0.0.1:${adminPort}/metrics`)).get('broadcaster_connections') ?? 0;
    const shared: TestClient[] = [];
    for (let i = 0; i < 200 && (shared.length < 16 || (await connectionsOn(adminC)) === 0 || (await connectionsOn(adminD)) === 0); i++) {
      shared.push(await connect(c, '?channels=same:1'));
    }
    const [onC, onD] = [await connectionsOn(adminC), await connectionsOn(adminD)];
    assert.ok(onC > 0 && onD > 0, `both processes got clients (${onC} and ${onD})`);
    assert.equal(onC + onD, shared.length);
    const onB = await connect(b, '?channels=same:1');
    const sent = Array.from({ length: 10 }, (_, i) => String(i));
    for (const m of sent) assert.equal((await httpPublish(c.http, 'same:1', m)).status, 200);
    for (const client of [...shared, onB]) assert.deepEqual((await client.waitPublications(10, 'same:1')).map((p) => String(p.data)), sent);
  });

  test('a message published through any process reaches the subscribers of all processes', { timeout: 60_000 }, async () => {
    const onA = await connect(a, '?channels=x:1');
    const onB = await connect(b, '?channels=x:1');
    assert.equal((await httpPublish(b.http, 'x:1', 'from b')).status, 200);
    const viaWs = await connect(a, '');
    const reply = await viaWs.command(3, 'x:1', Buffer.from('from a'));
    assert.deepEqual(reply.slice(0, 2), [1, 1]);
    assert.equal((reply[2] as { offset: number }).offset, 2, 'the second publication on x:1');
    for (const client of [onA, onB]) {
      const got = await client.waitPublications(2, 'x:1');
      assert.deepEqual(got.map((p) => p.data.toString()), ['from b', 'from a']);
    }
  });

  test('raw Redis PUBLISH of the documented envelope (any language) and the Node Publisher', { timeout: 60_000 }, async () => {
    const onA = await connect(a, '?channels=raw:1');
    const onB = await connect(b, '?channels=raw:1');
    const conn = redis.client();
    // What a PHP or Python backend sends: PUBLISH bc:<channel> <msgpack [1, data]>.
    assert.equal(await conn.publish('bc:raw:1', Buffer.from('9201c403616263', 'hex')), 2, 'one subscriber connection per process');
    conn.disconnect();
    const publisher = new Publisher({ redisUrl: redis.url });
    try {
      const { position } = await publisher.publish('raw:1', 'from node');
      assert.equal(position?.offset, 1, 'the Node publisher goes through the history script');
      await assert.rejects(publisher.publish('bad channel', 'x'), /invalid channel/);
    } finally {
      await publisher.close();
    }
    for (const client of [onA, onB]) {
      const got = await client.waitPublications(2, 'raw:1');
      assert.deepEqual(got.map((p) => [p.data, p.offset]), [[Buffer.from('abc'), null], ['from node', 1]]);
    }
  });

  test('an invalid envelope is dropped with a warning; the channel keeps working', { timeout: 60_000 }, async () => {
    const client = await connect(a, '?channels=inv:1');
    const conn = redis.client();
    await conn.publish('bc:inv:1', 'plain text is not an envelope');
    await conn.publish('bc:inv:1', pack([1, Buffer.from('ok')]));
    conn.disconnect();
    const got = await client.waitPublications(1, 'inv:1');
    assert.deepEqual(got.map((p) => p.data), [Buffer.from('ok')]);
    await waitFor('warning log', () => a.logs.some((l) => /not a valid envelope/.test(String(l.msg))));
  });

  test('Redis subscriptions are reference-counted per process', { timeout: 60_000 }, async () => {
    assert.equal(await numsub('bc:rc:1'), 0);
    const one = await connect(a, '?channels=rc:1');
    const two = await connect(a, '?channels=rc:1');
    const three = await connect(b, '');
    await three.command(1, 'rc:1');
    assert.equal(await numsub('bc:rc:1'), 2, 'one SUBSCRIBE per process, not per socket');
    await one.close();
    assert.equal(await numsub('bc:rc:1'), 2, 'a still has a local subscriber');
    await two.command(2, 'rc:1');
    await waitFor('a to unsubscribe', async () => (await numsub('bc:rc:1')) === 1);
    await three.close();
    await waitFor('b to unsubscribe', async () => (await numsub('bc:rc:1')) === 0);
    await two.close();
  });
});
