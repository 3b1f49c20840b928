import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pack } from 'msgpackr';
import { Publisher } from '../../src/publisher/publisher';
import { type Json, publishBatch, publishOne, textOf } from '../helpers/http-publish';
import { TestRedis } from '../helpers/redis-server';
import { type ServerProcess, startReadyWith } from '../helpers/server-process';
import { ClientPool } from '../helpers/test-client';
import { sleep } from '../helpers/wait';

const publish = publishOne;
const text = textOf;
/** POST /v1/publish with `body` as JSON, or as msgpack. */
const batch = (base: string, body: unknown, msgpack = false) =>
  msgpack ? publishBatch(base, pack(body), 'application/msgpack') : publishBatch(base, JSON.stringify(body));

let redis: TestRedis;
before(async () => {
  redis = await TestRedis.start();
});
after(async () => {
  await redis.kill();
});

function idempotencySuite(name: string, extra: () => string[]): void {
  describe(`idempotent publish over HTTP (${name})`, { timeout: 120_000 }, () => {
    let server: ServerProcess;
    const pool = new ClientPool((query) => server.wsUrl(query));

    // Ready (/readyz 200): the broker is connected before the first publish.
    before(async () => {
      server = await startReadyWith(['--port', '0', '--host', '127.0.0.1', '--history-namespaces', 'none:=0/0', ...extra()]);
    });
    after(async () => {
      await pool.closeAll();
      await server.stop();
    });

    test('Idempotency-Key header: a repeat publishes nothing and answers the first position with repeated: true', { timeout: 60_000 }, async () => {
      const c = await pool.connect('?channels=i:1');
      const first = await publish(server.http, 'i:1', 'one', 'order-42');
      assert.equal(first.status, 200);
      const epoch = first.json.epoch;
      assert.deepEqual(first.json, { ok: true, channel: 'i:1', size: 3, offset: 1, epoch, repeated: false });
      const again = await publish(server.http, 'i:1', 'uno!', 'order-42');
      assert.deepEqual(again, { status: 200, json: { ok: true, channel: 'i:1', size: 4, offset: 1, epoch, repeated: true } });
      const plain = await publish(server.http, 'i:1', 'two');
      assert.deepEqual(plain.json, { ok: true, channel: 'i:1', size: 3, offset: 2, epoch }, 'no key: the reply has no repeated field');
      await c.waitPublications(2);
      assert.deepEqual(text(c, 'i:1'), [
        [1, 'one'],
        [2, 'two'],
      ]);
      // the same key on another channel is another publication
      const other = await publish(server.http, 'i:2', 'x', 'order-42');
      assert.deepEqual([other.json.offset, other.json.repeated], [1, false]);
    });

    test('a channel without history: the repeat answers without offset', { timeout: 60_000 }, async () => {
      const c = await pool.connect('?channels=none:1');
      assert.deepEqual((await publish(server.http, 'none:1', 'a', 'k1')).json, { ok: true, channel: 'none:1', size: 1, repeated: false });
      assert.deepEqual((await publish(server.http, 'none:1', 'b', 'k1')).json, { ok: true, channel: 'none:1', size: 1, repeated: true });
      await publish(server.http, 'none:1', 'sentinel');
      await c.waitPublications(2);
      assert.deepEqual(text(c, 'none:1'), [
        [null, 'a'],
        [null, 'sentinel'],
      ]);
    });

    test('a malformed Idempotency-Key: 400 invalid_idempotency_key, nothing published', { timeout: 60_000 }, async () => {
      for (const key of ['k'.repeat(129), 'has space', 'semi;colon', '{tag}']) {
        const answer = await publish(server.http, 'i:3', 'x', key);
        assert.deepEqual([answer.status, answer.json.error], [400, 'invalid_idempotency_key'], key);
        assert.match(String(answer.json.message), /Idempotency-Key header: .*(128|A-Z a-z 0-9)/);
      }
      const longest = await publish(server.http, 'i:3', 'y', `${'k'.repeat(120)}+/=_.:@-`);
      assert.deepEqual([longest.status, longest.json.offset, longest.json.repeated], [200, 1, false], '128 characters of every allowed kind');
    });

    test('batch items with idempotency_key: repeats within and across requests and with the header answer the first result', { timeout: 60_000 }, async () => {
      const c = await pool.connect('?channels=ib:1,ib:2');
      const first = await batch(server.http, {
        publications: [
          { channel: 'ib:1', data: 'a', idempotency_key: 'x' },
          { channel: 'ib:1', data: 'b' },
          { channel: 'ib:1', data: 'a-again', idempotency_key: 'x' },
          { channel: 'ib:2', data: 'c', idempotency_key: 'x' },
          { channel: 'ib:1', data: 'bad key', idempotency_key: 'no spaces' },
          { channel: 'ib:1', data: 'not a string', idempotency_key: 7 },
        ],
      });
      assert.equal(first.status, 200);
      assert.equal(first.json.published, 4, 'a repeat is a successful item');
      const results = first.json.results as Json[];
      const e1 = results[0]!.epoch;
      assert.deepEqual(results.slice(0, 4), [
        { ok: true, channel: 'ib:1', size: 1, offset: 1, epoch: e1, repeated: false },
        { ok: true, channel: 'ib:1', size: 1, offset: 2, epoch: e1 },
        { ok: true, channel: 'ib:1', size: 7, offset: 1, epoch: e1, repeated: true },
        { ok: true, channel: 'ib:2', size: 1, offset: 1, epoch: results[3]!.epoch, repeated: false },
      ]);
      assert.deepEqual(
        results.slice(4).map((r) => [r.ok, r.error]),
        [
          [false, 'invalid_idempotency_key'],
          [false, 'invalid_idempotency_key'],
        ],
      );
      // msgpack items, a later request, and the single publish header share the keys
      const second = await batch(
        server.http,
        {
          publications: [
            { channel: 'ib:1', data: Buffer.from('a, third time'), idempotency_key: 'x' },
            { channel: 'ib:1', data: 'd', idempotency_key: 'y' },
          ],
        },
        true,
      );
      assert.deepEqual(
        (second.json.results as Json[]).map((r) => [r.offset, r.repeated]),
        [
          [1, true],
          [3, false],
        ],
      );
      assert.deepEqual([(await publish(server.http, 'ib:1', 'd-again', 'y')).json.offset, (await publish(server.http, 'ib:1', 'd-again', 'y')).json.repeated], [3, true]);
      await c.waitPublications(4);
      assert.deepEqual(text(c, 'ib:1'), [
        [1, 'a'],
        [2, 'b'],
        [3, 'd'],
      ]);
      assert.deepEqual(text(c, 'ib:2'), [[1, 'c']]);
    });
  });
}

idempotencySuite('memory broker', () => []);
idempotencySuite('redis broker', () => ['--redis-url', redis.url]);

describe('--idempotency-ttl', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startReadyWith(['--port', '0', '--host', '127.0.0.1', '--redis-url', redis.url, '--redis-prefix', 'ttl:', '--idempotency-ttl', '1']);
  });
  after(async () => {
    await server.stop();
  });

  test('--idempotency-ttl 1: after one second the same key publishes again', { timeout: 60_000 }, async () => {
    const first = await publish(server.http, 't:1', 'a', 'again-later');
    const answered = Date.now();
    assert.equal((await publish(server.http, 't:1', 'b', 'again-later')).json.repeated, true);
    // The key was stored before the answer: 1 s (the ttl) after it, it has expired.
    await sleep(answered + 1050 - Date.now());
    const later = await publish(server.http, 't:1', 'c', 'again-later');
    assert.deepEqual([later.json.offset, later.json.repeated], [(first.json.offset as number) + 1, false]);
  });

  test('an --idempotency-ttl outside 1-86400 is refused at start', { timeout: 60_000 }, async () => {
    await assert.rejects(startReadyWith(['--port', '0', '--host', '127.0.0.1', '--idempotency-ttl', '0']), /idempotency-ttl/);
  });
});

describe('Publisher with idempotency keys', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  const pool = new ClientPool((query) => server.wsUrl(query));
  before(async () => {
    server = await startReadyWith(['--port', '0', '--host', '127.0.0.1', '--redis-url', redis.url, '--redis-prefix', 'pi:']);
  });
  after(async () => {
    await pool.closeAll();
    await server.stop();
  });

  test('publish and publishBatch: a repeat answers the first result; the servers deliver it once', { timeout: 60_000 }, async () => {
    const c = await pool.connect('?channels=p:1');
    const publisher = new Publisher({ redisUrl: redis.url, prefix: 'pi:' });
    try {
      const first = await publisher.publish('p:1', 'a', { idempotencyKey: 'evt-1' });
      assert.deepEqual(await publisher.publish('p:1', 'a', { idempotencyKey: 'evt-1' }), { position: first.position, repeated: true });
      assert.equal(first.repeated, false);
      const outcomes = await publisher.publishBatch([
        { channel: 'p:1', data: 'a', idempotencyKey: 'evt-1' },
        { channel: 'p:1', data: 'b', idempotencyKey: 'evt-2' },
        { channel: 'p:1', data: 'c' },
        { channel: 'p:1', data: 'd', idempotencyKey: 'bad key' },
      ]);
      assert.deepEqual(
        outcomes.map((o) => (o.ok ? [o.position?.offset, o.repeated] : o.error.message)),
        [[1, true], [2, false], [3, false], 'invalid idempotency key "bad key": the idempotency key may only contain A-Z a-z 0-9 _ . : @ = + / -'],
      );
      await assert.rejects(publisher.publish('p:1', 'x', { idempotencyKey: '' }), /invalid idempotency key "": the idempotency key must not be empty/);
      await c.waitPublications(3);
      assert.deepEqual(text(c, 'p:1'), [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ]);
      // the key is the documented one: what a PHP backend running the script would find
      const conn = redis.client();
      try {
        assert.equal(await conn.get('pi:i:p:1/evt-2'), `2:${first.position!.epoch}`);
        assert.ok((await conn.ttl('pi:i:p:1/evt-2')) > 290);
      } finally {
        conn.disconnect();
      }
    } finally {
      await publisher.close();
    }
  });
});
