import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pack } from 'msgpackr';
import type Redis from 'ioredis';
import { encodeData, encodeSequencedEnvelope } from '../../src/protocol/envelope';
import { freePort } from '../helpers/free-port';
import { scrapeMetrics } from '../helpers/metrics-text';
import { TestRedis } from '../helpers/redis-server';
import { type ServerProcess, startReady } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

const PREFIX = 'gx:';
const CHANNEL = 'gap:1';
const TIMEOUT = { timeout: 60_000 };

/**
 * The process's own gap repair, seen from outside: publications made to go missing on the way
 * to this process (stored in the channel's history, never published) must be filled from
 * history before newer ones are forwarded, counted in the metrics and logged; a gap the history
 * cannot fill is announced with a resync frame. Runs with a custom --redis-prefix.
 */
describe('live gap repair, duplicates and invalid envelopes (Redis, custom prefix)', { timeout: 120_000 }, () => {
  let redis: TestRedis;
  let server: ServerProcess;
  let admin: Redis;
  let client: TestClient;
  let epoch: string;
  let metricsUrl: string;
  const metric = async (name: string): Promise<number | undefined> => (await scrapeMetrics(metricsUrl)).get(name);

  /** Stores publication `offset` in the channel's history the way the publish script does, without PUBLISH. */
  const storeWithoutPublish = async (offset: number): Promise<Buffer> => {
    const envelope = encodeSequencedEnvelope(encodeData(String(offset)), offset, epoch);
    await admin.hset(`${PREFIX}m:${CHANNEL}`, 's', offset);
    await admin.xadd(`${PREFIX}h:${CHANNEL}`, `${offset}-0`, 'e', envelope);
    return envelope;
  };

  before(async () => {
    redis = await TestRedis.start();
    const adminPort = await freePort();
    metricsUrl = `http://127.0.0.1:${adminPort}/metrics`;
    server = await startReady(redis.url, ['--redis-prefix', PREFIX, '--admin-port', String(adminPort)]);
    admin = redis.client();
    client = await TestClient.connect(server.wsUrl(`?channels=${CHANNEL}&positions=1`));
    await client.until('position', () => client.frames.some((f) => f[0] === 3));
    for (let i = 1; i <= 3; i++) assert.equal((await httpPublish(server.http, CHANNEL, String(i))).status, 200);
    await client.waitPublications(3);
    epoch = (await admin.hget(`${PREFIX}m:${CHANNEL}`, 'e'))!;
  });
  after(async () => {
    await client?.close();
    admin?.disconnect();
    await server?.stop();
    await redis?.kill();
  });

  test('every key and pub/sub channel carries the --redis-prefix, none the default', TIMEOUT, async () => {
    assert.deepEqual((await admin.keys('*')).sort(), [`${PREFIX}h:${CHANNEL}`, `${PREFIX}m:${CHANNEL}`]);
    const channels = (await admin.pubsub('CHANNELS', '*')) as string[];
    assert.deepEqual(channels, [`${PREFIX}${CHANNEL}`]);
    assert.equal(await admin.publish(`bc:${CHANNEL}`, pack([1, 'ignored'])), 0, 'nobody listens on the default prefix');
  });

  test('a publication this process missed is filled from history before the next one: counted and logged', TIMEOUT, async () => {
    await storeWithoutPublish(4);
    assert.equal((await httpPublish(server.http, CHANNEL, '5')).json.offset, 5);
    const got = await client.waitPublications(5);
    assert.deepEqual(got.map((p) => [p.offset, String(p.data)]), [[1, '1'], [2, '2'], [3, '3'], [4, '4'], [5, '5']]);
    await waitFor('the repair to be counted', async () => (await metric('broadcaster_gaps_repaired_total')) === 1);
    assert.equal(await metric('broadcaster_gaps_detected_total'), 1);
    assert.equal(await metric('broadcaster_resyncs_sent_total'), 0);
    // the log line travels through the process's stdout: it may come after the metric answered
    await server.waitForLog('the gap-repair log line', (l) => l.msg === 'offset gap: filling from history' && l.after === 3 && l.got === 5);
    assert.equal(client.frames.filter((f) => f[0] === 4).length, 0, 'no resync notice for a repaired gap');
  });

  test('a gap the history cannot fill is announced with a resync frame, then delivery goes on', TIMEOUT, async () => {
    // Offsets 6 and 7 exist (the counter moved) but were never stored nor published.
    await admin.hset(`${PREFIX}m:${CHANNEL}`, 's', 7);
    assert.equal((await httpPublish(server.http, CHANNEL, '8')).json.offset, 8);
    await client.waitPublications(6);
    const after5 = client.frames.slice(client.frames.findIndex((f) => f[0] === 0 && f[2] === 5) + 1);
    assert.deepEqual(after5.map((f) => f[0]), [4, 0], 'the resync frame comes before publication 8');
    assert.deepEqual(after5[0], [4, CHANNEL, 'publications missed by this server are no longer in history']);
    assert.deepEqual([after5[1]![2], String(after5[1]![3])], [8, '8']);
    await waitFor('the resync to be counted', async () => (await metric('broadcaster_resyncs_sent_total')) === 1);
    assert.equal(await metric('broadcaster_gaps_detected_total'), 2);
    assert.equal(await metric('broadcaster_gaps_repaired_total'), 1, 'an announced gap is not a repaired one');
    await server.waitForLog('the resync log line', (l) => l.msg === 'publications lost: resync notice sent');
  });

  test('a publication delivered twice by the broker is dropped and counted', TIMEOUT, async () => {
    const [[, fields]] = (await admin.xrangeBuffer(`${PREFIX}h:${CHANNEL}`, '8-0', '8-0')) as [[Buffer, Buffer[]]];
    assert.equal(await admin.publish(`${PREFIX}${CHANNEL}`, fields[1]!), 1);
    assert.equal((await httpPublish(server.http, CHANNEL, '9')).json.offset, 9);
    const got = await client.waitPublications(7);
    assert.deepEqual(got.map((p) => p.offset), [1, 2, 3, 4, 5, 8, 9], 'offset 8 once');
    await waitFor('the duplicate to be counted', async () => (await metric('broadcaster_duplicates_dropped_total')) === 1);
  });

  test('anything that is not an envelope is dropped and counted; raw envelopes without offset pass', TIMEOUT, async () => {
    assert.equal(await admin.publish(`${PREFIX}${CHANNEL}`, 'not an envelope'), 1);
    assert.equal(await admin.publish(`${PREFIX}${CHANNEL}`, pack([2, 'wrong version'])), 1);
    assert.equal(await admin.publish(`${PREFIX}${CHANNEL}`, pack([1, 'raw'])), 1);
    const got = await client.waitPublications(8);
    assert.deepEqual([got[7]!.offset, got[7]!.data], [null, 'raw']);
    await waitFor('two invalid envelopes counted', async () => (await metric('broadcaster_invalid_envelopes_total')) === 2);
    await server.waitForLog('the invalid-envelope warning', (l) => /not a valid envelope/.test(String(l.msg)));
    assert.equal(client.closed, null);
  });
});
