import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pack } from 'msgpackr';
import { Command, ErrorCode, Frame } from '../../src/protocol/opcodes';
import type { ServerProcess } from './server-process';
import { TestClient, httpPublish } from './test-client';

/**
 * The delivery behaviour every broker must give, run against a real server process:
 * `start` starts the server under test (channels without history: see the recovery suites).
 */
export function deliverySuite(name: string, start: () => Promise<ServerProcess>): void {
  describe(`delivery (${name})`, { timeout: 240_000 }, () => {
    let server: ServerProcess;
    const clients: TestClient[] = [];
    const connect = async (query = ''): Promise<TestClient> => {
      const client = await TestClient.connect(server.wsUrl(query));
      clients.push(client);
      return client;
    };

    before(async () => {
      server = await start();
    });
    after(async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
      await server.stop();
    });

    test('subscribe in the URL, publish over HTTP: bytes arrive as-is with channel and empty offset', { timeout: 60_000 }, async () => {
      const a = await connect('?channels=news,chat:42');
      const b = await connect('?channels=news');
      const body = Buffer.from([0, 1, 2, 255, 0x94, 0xc1]);
      const res = await httpPublish(server.http, 'news', body);
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { ok: true, channel: 'news', size: 6 });
      assert.equal((await httpPublish(server.http, 'chat:42', 'second')).status, 200);
      const [pa] = await a.waitPublications(1, 'news');
      assert.deepEqual(pa, { channel: 'news', offset: null, data: body });
      assert.deepEqual((await a.waitPublications(1, 'chat:42'))[0]!.data, Buffer.from('second'));
      assert.deepEqual((await b.waitPublications(1, 'news'))[0]!.data, body);
      assert.equal(b.publications('chat:42').length, 0);
    });

    test('subscribe by command, publish over WebSocket: replies carry the request id, order is kept', { timeout: 60_000 }, async () => {
      const sub = await connect();
      assert.deepEqual(await sub.command(Command.Subscribe, 'ws:1'), [1, 1, null]);
      const pub = await connect();
      for (let i = 0; i < 50; i++) pub.ws.send(pack([Command.Publish, 100 + i, 'ws:1', Buffer.from(String(i))]));
      await pub.reply(149);
      const got = await sub.waitPublications(50, 'ws:1');
      assert.deepEqual(
        got.map((p) => p.data.toString()),
        Array.from({ length: 50 }, (_, i) => String(i)),
      );
      const acknowledged = pub.frames.map((f) => [f[0], f[1]]).sort((x, y) => (x[1] as number) - (y[1] as number));
      assert.deepEqual(
        acknowledged,
        Array.from({ length: 50 }, (_, i) => [Frame.Reply, 100 + i]),
        'every publish acknowledged with an ok reply',
      );
      // A string payload stays a msgpack str.
      await pub.command(Command.Publish, 'ws:1', 'text');
      assert.equal((await sub.waitPublications(51, 'ws:1'))[50]!.data, 'text');
    });

    test('unsubscribe stops delivery on that channel only', { timeout: 60_000 }, async () => {
      const c = await connect('?channels=u:1,u:2');
      assert.deepEqual(await c.command(Command.Unsubscribe, 'u:1'), [1, 1, null]);
      await httpPublish(server.http, 'u:1', 'dropped');
      await httpPublish(server.http, 'u:2', 'sentinel');
      await c.waitPublications(1, 'u:2');
      assert.equal(c.publications('u:1').length, 0, 'no publication after unsubscribe');
      // Unsubscribing a channel not subscribed is a no-op success.
      assert.deepEqual(await c.command(Command.Unsubscribe, 'never'), [1, 2, null]);
    });

    test('ping gets an ok reply', { timeout: 60_000 }, async () => {
      const c = await connect();
      assert.deepEqual(await c.command(Command.Ping), [1, 1, null]);
    });

    test('bad frames get documented error replies and cost nothing else', { timeout: 60_000 }, async () => {
      const bad = await connect('?channels=bad:1');
      const good = await connect('?channels=bad:1');
      bad.sendRaw(Buffer.from([0xc1]));
      bad.sendRaw(Buffer.from('not msgpack at all'));
      assert.deepEqual((await bad.command(99)).slice(0, 3), [2, 1, ErrorCode.UnknownCommand]);
      assert.deepEqual((await bad.command(Command.Subscribe, 'no spaces')).slice(0, 3), [2, 2, ErrorCode.InvalidChannel]);
      assert.deepEqual((await bad.command(Command.Subscribe, 'x'.repeat(256))).slice(0, 3), [2, 3, ErrorCode.InvalidChannel]);
      assert.deepEqual((await bad.command(Command.Publish, 'bad:1', 7)).slice(0, 3), [2, 4, ErrorCode.BadRequest]);
      assert.deepEqual((await bad.command(Command.Publish, 'bad:1', Buffer.alloc(4097))).slice(0, 3), [2, 5, ErrorCode.MessageTooLarge]);
      const noId = bad.frames.filter((f) => f[0] === Frame.Error && f[1] === null);
      assert.equal(noId.length, 2, 'two malformed frames, two error replies without id');
      assert.ok(noId.every((f) => f[2] === ErrorCode.BadRequest));
      // The same connection and its neighbours still work.
      assert.deepEqual(await bad.command(Command.Publish, 'bad:1', Buffer.alloc(4096)), [1, 6, null]);
      assert.equal((await good.waitPublications(1, 'bad:1'))[0]!.data.length, 4096);
      assert.equal(bad.closed, null);
    });

    test('a frame far over the size limit closes only that connection', { timeout: 60_000 }, async () => {
      const bad = await connect('?channels=big:1');
      const good = await connect('?channels=big:1');
      bad.sendRaw(pack([Command.Publish, 1, 'big:1', Buffer.alloc(4096 + 2048)]));
      const closed = await bad.waitClosed();
      assert.equal(closed.code, 1006);
      assert.equal((await httpPublish(server.http, 'big:1', 'after')).status, 200);
      assert.deepEqual((await good.waitPublications(1, 'big:1'))[0]!.data, Buffer.from('after'));
    });

    test('subscription limit per connection: URL and command', { timeout: 60_000 }, async () => {
      const many = Array.from({ length: 9 }, (_, i) => `lim:${i}`);
      await assert.rejects(connect(`?channels=${many.join(',')}`), (err: Error & { status?: number }) => err.status === 400 && /limit is 8/.test(err.message));
      const c = await connect(`?channels=${many.slice(0, 8).join(',')}`);
      assert.deepEqual((await c.command(Command.Subscribe, 'lim:8')).slice(0, 3), [2, 1, ErrorCode.TooManySubscriptions]);
      assert.deepEqual(await c.command(Command.Subscribe, 'lim:0'), [1, 2, null], 'resubscribing a held channel is fine');
      await c.command(Command.Unsubscribe, 'lim:0');
      assert.deepEqual(await c.command(Command.Subscribe, 'lim:8'), [1, 4, null]);
    });

    test('HTTP errors: invalid channel, empty body, too large, unknown route and method', { timeout: 60_000 }, async () => {
      const invalid = await httpPublish(server.http, 'a%20b', 'x');
      assert.equal(invalid.status, 400);
      assert.equal(invalid.json.error, 'invalid_channel');
      const empty = await httpPublish(server.http, 'news', '');
      assert.deepEqual([empty.status, empty.json.error], [400, 'empty_body']);
      const large = await httpPublish(server.http, 'news', Buffer.alloc(4097));
      assert.deepEqual([large.status, large.json.error], [413, 'message_too_large']);
      const notFound = await fetch(`${server.http}/v2/nothing`);
      assert.deepEqual([notFound.status, ((await notFound.json()) as { error: string }).error], [404, 'not_found']);
      const wrongMethod = await fetch(`${server.http}/v1/channels/news/publish`);
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.get('allow'), 'POST');
      const plainWs = await fetch(`${server.http}/ws`);
      assert.equal(plainWs.status, 426);
      await assert.rejects(
        connect('?channels=ok,bad%20name'),
        (err: Error & { status?: number }) => err.status === 400 && /invalid|may only contain/.test(err.message),
      );
      const health = await fetch(`${server.http}/healthz`);
      assert.deepEqual([health.status, await health.json()], [200, { status: 'ok' }]);
      const ready = await fetch(`${server.http}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { status: string }).status, 'ready');
    });
  });
}
