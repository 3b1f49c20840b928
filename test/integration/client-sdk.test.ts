import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type BroadcasterError, Client, ClientErrorCode, type ClientOptions, type SubscribedEvent } from '../../src/client/index';
import { cleanupSteps } from '../helpers/cleanup';
import { TestRedis } from '../helpers/redis-server';
import { publishSequence } from '../helpers/sequence-publisher';
import { ServerProcess, startReady } from '../helpers/server-process';
import { TEST_SECRET, hs256Token } from '../helpers/tokens';
import { waitFor } from '../helpers/wait';

const FAST_RECONNECT: ClientOptions = { reconnect: { initialDelay: 200, maxDelay: 1000, factor: 2 } };

/** A Node SDK client recording what its subscription of `channel` delivers. */
class Recorder {
  readonly data: string[] = [];
  readonly offsets: number[] = [];
  readonly subscribed: SubscribedEvent[] = [];
  readonly closes: number[] = [];

  constructor(readonly client: Client, channel: string) {
    client.on('disconnected', (e) => this.closes.push(e.code));
    client.subscribe(channel, {
      publication: (p) => {
        this.data.push(typeof p.data === 'string' ? p.data : Buffer.from(p.data as Uint8Array).toString());
        this.offsets.push(p.offset!);
      },
      subscribed: (e) => this.subscribed.push(e),
    });
    client.connect();
  }

  async ready(): Promise<void> {
    await waitFor('first subscribe reply', () => this.subscribed.length > 0, 10_000);
  }
}

describe('client SDK against real servers and Redis', { timeout: 120_000 }, () => {
  const steps = cleanupSteps();

  test('two processes, one killed mid-stream: every subscriber gets the whole sequence once, in order, via recovery', { timeout: 60_000 }, async () => {
    const redis = await TestRedis.start();
    steps.push(() => redis.kill());
    const a = await startReady(redis.url, ['--history-size', '1000']);
    steps.push(() => a.stop());
    const b = await startReady(redis.url, ['--history-size', '1000']);
    steps.push(() => b.stop());
    const channel = 'seq:1';
    const total = 300;
    const onA = [0, 1].map(() => new Recorder(new Client([a.wsUrl(), b.wsUrl()], FAST_RECONNECT), channel));
    const onB = [0, 1, 2].map(() => new Recorder(new Client([b.wsUrl(), a.wsUrl()], FAST_RECONNECT), channel));
    const all = [...onA, ...onB];
    for (const r of all) steps.push(async () => r.client.close());
    for (const r of all) await r.ready();

    const publishing = publishSequence([a.http], channel, total, 5);
    await waitFor('subscribers on B to receive 60 messages', () => onB.every((r) => r.data.length >= 60), 20_000);
    b.signal('SIGKILL');
    await b.exited();
    await publishing;
    await waitFor('every subscriber to hold the whole sequence', () => all.every((r) => r.data.length >= total), 30_000);

    const expected = Array.from({ length: total }, (_, i) => String(i + 1));
    for (const r of all) {
      assert.deepEqual(r.data, expected);
      assert.deepEqual(r.offsets, expected.map(Number));
    }
    for (const r of onB) {
      assert.equal(r.closes[0], 1006, 'the killed process drops its sockets without a close frame');
      const back = r.subscribed.find((e) => e.reason === 'reconnect');
      assert.ok(back !== undefined, 'resubscribed after the reconnect');
      assert.equal(back.wasRecovering, true);
      assert.equal(back.recovered, true);
    }
    for (const r of onA) assert.deepEqual(r.subscribed.map((e) => e.reason), ['subscribe']);
  });

  test('token refresh keeps a connection open past its first token\'s expiry; a static token is closed with 4001', { timeout: 60_000 }, async () => {
    const server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--jwt-secret', TEST_SECRET]);
    steps.push(() => server.stop());
    const firstExpiry = Math.floor(Date.now() / 1000) + 3;
    let issued = 0;
    const refreshing = new Client(server.wsUrl(), { ...FAST_RECONNECT, token: () => (issued++, hs256Token({ sub: 'u1' }, { expiresIn: 3 })) });
    steps.push(async () => refreshing.close());
    const closes: number[] = [];
    const refreshed: Array<number | null> = [];
    refreshing.on('disconnected', (e) => closes.push(e.code));
    refreshing.on('refreshed', (e) => refreshed.push(e.expiresAt));
    refreshing.connect();
    await waitFor('connected', () => refreshing.state === 'connected', 5000);

    const fixed = new Client(server.wsUrl(), { ...FAST_RECONNECT, token: await hs256Token({ sub: 'u2' }, { expiresIn: 2 }) });
    steps.push(async () => fixed.close());
    const fixedCloses: Array<[number, string]> = [];
    fixed.on('disconnected', (e) => fixedCloses.push([e.code, e.reason]));
    fixed.connect();

    await waitFor('past the first token\'s expiry', () => Date.now() > firstExpiry * 1000 + 1500, 10_000);
    assert.deepEqual(closes, []);
    assert.equal(refreshing.state, 'connected');
    assert.ok(refreshed.length >= 2, `refreshed ${refreshed.length} times`);
    assert.ok(refreshed.at(-1)! > firstExpiry * 1000);
    assert.equal(typeof (await refreshing.ping()), 'number');
    assert.deepEqual(fixedCloses[0], [4001, 'token expired: reconnect with a fresh token']);
    assert.ok(issued >= 3);
  });

  test('publish resolves with the position or rejects with the documented code', { timeout: 60_000 }, async () => {
    const server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--client-publish', 'chat:*', '--max-message-size', '1000']);
    steps.push(() => server.stop());
    const client = new Client(server.wsUrl(), FAST_RECONNECT);
    steps.push(async () => client.close());
    const got: unknown[] = [];
    client.subscribe('chat:1', { publication: (p) => got.push(p.data) }, { format: 'msgpack' });
    client.connect();
    await waitFor('subscribed', () => client.getSubscription('chat:1')?.state === 'subscribed', 5000);
    const first = await client.publish('chat:1', { text: 'hello', n: 1 });
    assert.equal(first.offset, 1);
    assert.equal(typeof first.epoch, 'string');
    assert.deepEqual(await client.publish('chat:1', 'plain text'), { offset: 2, epoch: first.epoch });
    await waitFor('both publications', () => got.length === 2);
    assert.deepEqual(got, [{ text: 'hello', n: 1 }, 'plain text']);
    const code = (promise: Promise<unknown>): Promise<number> => promise.then(() => 0, (err: BroadcasterError) => err.code);
    assert.equal(await code(client.publish('news', 'x')), 108);
    assert.equal(await code(client.publish('chat:1', 'x'.repeat(1500))), 103);
    assert.equal(await code(client.publish('bad channel!', 'x')), 102);
    client.close();
    assert.equal(await code(client.publish('chat:1', 'x')), ClientErrorCode.NotConnected);
  });

  test('the server serves the browser bundle with cache headers, and the served module works', { timeout: 60_000 }, async () => {
    const server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1']);
    steps.push(() => server.stop());
    const version = (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    const built = readFileSync(join(__dirname, '..', '..', 'client', 'broadcaster-client.js'));
    const versioned = await fetch(`${server.http}/client/broadcaster-client.${version}.js`);
    const plain = await fetch(`${server.http}/client/broadcaster-client.js`);
    for (const res of [versioned, plain]) {
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.match(res.headers.get('etag') ?? '', /^"[\w-]{22}"$/);
    }
    assert.equal(versioned.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(plain.headers.get('cache-control'), 'public, max-age=300');
    const body = Buffer.from(await versioned.arrayBuffer());
    assert.ok(body.equals(built));
    assert.ok(Buffer.from(await plain.arrayBuffer()).equals(built));
    const again = await fetch(`${server.http}/client/broadcaster-client.js`, { headers: { 'If-None-Match': versioned.headers.get('etag')! } });
    assert.equal(again.status, 304);
    assert.equal((await again.arrayBuffer()).byteLength, 0);
    assert.equal((await fetch(`${server.http}/client/broadcaster-client.9.9.9.js`)).status, 404);

    // The served file is a working ES module: connect with it (given the ws class, as on Node 20).
    const dir = mkdtempSync(join(tmpdir(), 'bc-bundle-'));
    writeFileSync(join(dir, 'client.mjs'), body);
    const bundle = (await import(join(dir, 'client.mjs'))) as typeof import('../../src/client/index');
    const client = new bundle.Client(server.wsUrl(), { WebSocket: (await import('ws')).default });
    steps.push(async () => client.close());
    client.connect();
    await waitFor('bundle client connected', () => client.state === 'connected', 5000);
    assert.equal(typeof (await client.ping()), 'number');
  });
});
