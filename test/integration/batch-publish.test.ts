import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pack } from 'msgpackr';
import { Publisher } from '../../src/publisher/publisher';
import { TestRedis } from '../helpers/redis-server';
import { type Json, publishBatch, textOf } from '../helpers/http-publish';
import { type ServerProcess, startReady, startReadyWith } from '../helpers/server-process';
import { ClientPool } from '../helpers/test-client';

const batch = publishBatch;
const text = textOf;

let redis: TestRedis;
before(async () => {
  redis = await TestRedis.start();
});
after(async () => {
  await redis.kill();
});

function batchSuite(name: string, extra: () => string[]): void {
  describe(`batch publish (${name})`, { timeout: 120_000 }, () => {
    let server: ServerProcess;
    const pool = new ClientPool((query) => server.wsUrl(query));

    before(async () => {
      // Ready, not only listening: a publish before the broker is connected is answered 503.
      server = await startReadyWith([
        '--port', '0', '--host', '127.0.0.1', '--max-message-size', '1000', '--max-batch-bytes', '20000',
        '--history-namespaces', 'none:=0/0', ...extra(),
      ]);
    });
    after(async () => {
      await pool.closeAll();
      await server.stop();
    });

    test('one request to several channels: a result per item, consecutive offsets per channel, delivered in order', { timeout: 60_000 }, async () => {
      const c = await pool.connect('?channels=b:1,b:2');
      const body = JSON.stringify({
        publications: [
          { channel: 'b:1', data: 'one' },
          { channel: 'b:2', data: { n: 1 } },
          { channel: 'b:1', base64: Buffer.from('two').toString('base64') },
          { channel: 'b:1', data: 'three' },
        ],
      });
      const { status, json } = await batch(server.http, body);
      assert.equal(status, 200);
      assert.equal(json.ok, true);
      assert.equal(json.published, 4);
      const results = json.results as Json[];
      const epoch1 = results[0]!.epoch;
      assert.deepEqual(results, [
        { ok: true, channel: 'b:1', size: 3, offset: 1, epoch: epoch1 },
        { ok: true, channel: 'b:2', size: 7, offset: 1, epoch: results[1]!.epoch },
        { ok: true, channel: 'b:1', size: 3, offset: 2, epoch: epoch1 },
        { ok: true, channel: 'b:1', size: 5, offset: 3, epoch: epoch1 },
      ]);
      await c.waitPublications(4);
      assert.deepEqual(text(c, 'b:1'), [[1, 'one'], [2, 'two'], [3, 'three']]);
      assert.deepEqual(text(c, 'b:2'), [[1, '{"n":1}']]);
      // delivered as bin, like the body of a single HTTP publish
      assert.ok(Buffer.isBuffer(c.publications('b:1')[0]!.data));
      // a single publish continues the offsets
      const single = await fetch(`${server.http}/v1/channels/b:1/publish`, { method: 'POST', body: 'four' });
      assert.equal(((await single.json()) as Json).offset, 4);
    });

    test('a msgpack body: data as bin or str', { timeout: 60_000 }, async () => {
      const c = await pool.connect('?channels=b:3');
      const body = pack({ publications: [{ channel: 'b:3', data: Buffer.from([0, 1, 2]) }, { channel: 'b:3', data: 'str' }] });
      const { status, json } = await batch(server.http, body, 'application/msgpack');
      assert.equal(status, 200);
      assert.deepEqual((json.results as Json[]).map((r) => [r.ok, r.offset, r.size]), [[true, 1, 3], [true, 2, 3]]);
      const got = await c.waitPublications(2);
      assert.deepEqual(got.map((p) => [p.offset, [...Buffer.from(p.data)]]), [[1, [0, 1, 2]], [2, [...Buffer.from('str')]]]);
    });

    test('a channel without history: results without offsets, still in order', { timeout: 60_000 }, async () => {
      const c = await pool.connect('?channels=none:1');
      const body = JSON.stringify({ publications: ['a', 'b', 'c'].map((data) => ({ channel: 'none:1', data })) });
      const { json } = await batch(server.http, body);
      assert.deepEqual(json.results, ['a', 'b', 'c'].map(() => ({ ok: true, channel: 'none:1', size: 1 })));
      await c.waitPublications(3);
      assert.deepEqual(text(c, 'none:1'), [[null, 'a'], [null, 'b'], [null, 'c']]);
    });

    test('bad items fail alone with catalogued errors; the others are published', { timeout: 60_000 }, async () => {
      const c = await pool.connect('?channels=b:4');
      const body = JSON.stringify({
        publications: [
          { channel: 'b:4', data: 'ok1' },
          { channel: 'bad channel', data: 'x' },
          { channel: 'b:4', data: '' },
          { channel: 'b:4', data: 'x'.repeat(1001) },
          { channel: 'b:4' },
          'not an object',
          { channel: 'b:4', base64: '***' },
          { channel: 'b:4', data: 'ok2' },
        ],
      });
      const { status, json } = await batch(server.http, body);
      assert.equal(status, 200);
      assert.equal(json.ok, false);
      assert.equal(json.published, 2);
      const results = json.results as Json[];
      assert.deepEqual(results.map((r) => r.ok ? ['ok', r.offset] : [r.error, r.channel]), [
        ['ok', 1],
        ['invalid_channel', 'bad channel'],
        ['empty_body', 'b:4'],
        ['message_too_large', 'b:4'],
        ['invalid_batch', 'b:4'],
        ['invalid_batch', null],
        ['invalid_batch', 'b:4'],
        ['ok', 2],
      ]);
      for (const r of results) if (r.ok === false) assert.equal(typeof r.message, 'string');
      await c.waitPublications(2);
      assert.deepEqual(text(c, 'b:4'), [[1, 'ok1'], [2, 'ok2']]);
    });

    test('whole-request errors: not the documented body, empty list, too large, wrong method', { timeout: 60_000 }, async () => {
      const notJson = await batch(server.http, '{nope');
      assert.deepEqual([notJson.status, notJson.json.error], [400, 'invalid_batch']);
      assert.match(String(notJson.json.message), /publications/);
      const noList = await batch(server.http, JSON.stringify({ items: [] }));
      assert.deepEqual([noList.status, noList.json.error], [400, 'invalid_batch']);
      const empty = await batch(server.http, JSON.stringify({ publications: [] }));
      assert.deepEqual([empty.status, empty.json.error], [400, 'invalid_batch']);
      const badPack = await batch(server.http, Buffer.from([0xc1]), 'application/msgpack');
      assert.deepEqual([badPack.status, badPack.json.error], [400, 'invalid_batch']);
      const big = await batch(server.http, JSON.stringify({ publications: [{ channel: 'b:5', data: 'x'.repeat(20_001) }] }));
      assert.deepEqual([big.status, big.json.error], [413, 'message_too_large']);
      assert.match(String(big.json.message), /--max-batch-bytes/);
      const get = await fetch(`${server.http}/v1/publish`);
      assert.equal(get.status, 405);
    });
  });
}

batchSuite('memory broker', () => []);
batchSuite('redis broker', () => ['--redis-url', redis.url]);

describe('Publisher.publishBatch', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  const pool = new ClientPool((query) => server.wsUrl(query));
  before(async () => {
    server = await startReady(redis.url, ['--redis-prefix', 'pb:']);
  });
  after(async () => {
    await pool.closeAll();
    await server.stop();
  });

  test('many publications to several channels in one call: an outcome per item, offsets consecutive per channel', { timeout: 60_000 }, async () => {
    const c = await pool.connect('?channels=p:1,p:2');
    const publisher = new Publisher({ redisUrl: redis.url, prefix: 'pb:' });
    try {
      const outcomes = await publisher.publishBatch([
        { channel: 'p:1', data: 'a' },
        { channel: 'p:2', data: Buffer.from('b') },
        { channel: 'p:1', data: 'c' },
        { channel: 'not valid!', data: 'x' },
      ]);
      assert.deepEqual(outcomes.map((o) => (o.ok ? o.position?.offset : o.error.name)), [1, 1, 2, 'TypeError']);
      const again = await publisher.publishBatch([{ channel: 'p:1', data: 'd' }]);
      assert.deepEqual(again.map((o) => (o.ok ? o.position?.offset : null)), [3]);
      await c.waitPublications(4);
      assert.deepEqual(c.publications('p:1').map((p) => [p.offset, Buffer.from(p.data).toString()]), [[1, 'a'], [2, 'c'], [3, 'd']]);
      assert.deepEqual(c.publications('p:2').map((p) => [p.offset, Buffer.from(p.data).toString()]), [[1, 'b']]);
    } finally {
      await publisher.close();
    }
  });
});
