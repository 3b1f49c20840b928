import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Command } from '../../src/protocol/opcodes';
import { RecoveringClient } from './recovering-client';
import { historyData, publishSequence } from './sequence-publisher';
import type { ServerProcess } from './server-process';
import { ClientPool, type TestClient, httpPublish } from './test-client';
import { waitFor } from './wait';

type Result = { offset: number; epoch: string; recovered?: boolean };

/**
 * Offsets, history and recovery as clients see them, run against a real server process: `start`
 * starts the server under test with the given history options added to its broker's own.
 */
export function recoverySuite(name: string, start: (args: string[]) => Promise<ServerProcess>): void {
  describe(`offsets, history and recovery (${name})`, { timeout: 240_000 }, () => {
    let server: ServerProcess;
    const pool = new ClientPool((query) => server.wsUrl(query));
    const connect = (query: string): Promise<TestClient> => pool.connect(query);

    before(async () => {
      // One test publishes over WebSocket: client publishing is off by default, so it is enabled here.
      server = await start(['--history-namespaces', 'short:=3/60,none:=0/0,seq:=1000/60', '--client-publish', '*']);
    });
    after(async () => {
      await pool.closeAll();
      await server.stop();
    });

    test('publications carry consecutive offsets; subscribe and publish replies carry positions', { timeout: 60_000 }, async () => {
      const c = await connect('');
      const [, , sub] = await c.command(Command.Subscribe, 'r:1');
      const { epoch } = sub as Result;
      assert.deepEqual(sub, { offset: 0, epoch });
      const res = await httpPublish(server.http, 'r:1', 'one');
      assert.deepEqual(res.json, { ok: true, channel: 'r:1', size: 3, offset: 1, epoch });
      assert.deepEqual(await c.command(Command.Publish, 'r:1', 'two'), [1, 2, { offset: 2, epoch }]);
      assert.deepEqual(
        (await c.waitPublications(2)).map((p) => [p.offset, p.data.toString()]),
        [
          [1, 'one'],
          [2, 'two'],
        ],
      );
    });

    test('a client that reconnects with since= gets what it missed, in order, then live ones', { timeout: 60_000 }, async () => {
      const first = await connect('?channels=r:2&positions=1');
      await first.until('subscribed frame', () => first.frames.some((f) => f[0] === 3));
      const { epoch } = first.frames.find((f) => f[0] === 3)![2] as Result;
      for (let i = 1; i <= 3; i++) await httpPublish(server.http, 'r:2', `m${i}`);
      await first.waitPublications(3);
      await first.close();
      for (let i = 4; i <= 7; i++) await httpPublish(server.http, 'r:2', `m${i}`);
      const back = await connect(`?channels=r:2&since=r:2:3:${epoch}`);
      await back.until('subscribed frame', () => back.frames.some((f) => f[0] === 3));
      await httpPublish(server.http, 'r:2', 'm8');
      const got = await back.waitPublications(5);
      assert.deepEqual(
        got.map((p) => [p.offset, p.data.toString()]),
        [
          [4, 'm4'],
          [5, 'm5'],
          [6, 'm6'],
          [7, 'm7'],
          [8, 'm8'],
        ],
      );
      // The subscribed frame comes after the recovered publications and before live ones.
      const order = back.frames.map((f) => (f[0] === 3 ? 'subscribed' : f[2]));
      assert.deepEqual(order, [4, 5, 6, 7, 'subscribed', 8]);
      assert.deepEqual(
        back.frames.find((f) => f[0] === 3),
        [3, 'r:2', { offset: 7, epoch, recovered: true }],
      );
    });

    test('recovery by command, and a resubscribe with a position while subscribed (resync)', { timeout: 60_000 }, async () => {
      const c = await connect('?channels=r:3&positions=1');
      await c.until('subscribed', () => c.frames.some((f) => f[0] === 3));
      const { epoch } = c.frames.find((f) => f[0] === 3)![2] as Result;
      for (let i = 1; i <= 4; i++) await httpPublish(server.http, 'r:3', `m${i}`);
      await c.waitPublications(4);
      const other = await connect('');
      const [, , result] = await other.command(Command.Subscribe, 'r:3', 1, epoch);
      assert.deepEqual(result, { offset: 4, epoch, recovered: true });
      assert.deepEqual(
        other.publications().map((p) => p.offset),
        [2, 3, 4],
      );
      // Resync: already subscribed, asks again from offset 2: gets 3 and 4 again, exactly once more.
      const [, , again] = await other.command(Command.Subscribe, 'r:3', 2, epoch);
      assert.deepEqual(again, { offset: 4, epoch, recovered: true });
      await httpPublish(server.http, 'r:3', 'm5');
      await other.waitPublications(6);
      assert.deepEqual(
        other.publications().map((p) => p.offset),
        [2, 3, 4, 3, 4, 5],
      );
    });

    test('a position older than the history, or of another epoch, is reported as not recovered', { timeout: 60_000 }, async () => {
      const c = await connect('');
      const [, , first] = await c.command(Command.Subscribe, 'short:1');
      const { epoch } = first as Result;
      for (let i = 1; i <= 6; i++) await httpPublish(server.http, 'short:1', `m${i}`);
      // The publish answer comes on the publisher connection, the publication on the subscriber
      // one (on a cluster, its shard's): this process's position is 6 once c has received it.
      await c.until('publication 6 delivered', () => c.publications().some((p) => p.offset === 6));
      const late = await connect('');
      assert.deepEqual((await late.command(Command.Subscribe, 'short:1', 1, epoch))[2], { offset: 6, epoch, recovered: false });
      assert.equal(late.publications().length, 0, 'nothing partial is sent when recovery fails');
      const wrong = await connect('');
      assert.deepEqual((await wrong.command(Command.Subscribe, 'short:1', 6, 'another-epoch'))[2], { offset: 6, epoch, recovered: false });
      const exact = await connect('');
      assert.deepEqual((await exact.command(Command.Subscribe, 'short:1', 3, epoch))[2], { offset: 6, epoch, recovered: true });
      assert.deepEqual(
        exact.publications().map((p) => p.offset),
        [4, 5, 6],
      );
    });

    test('channels without history: no offsets, null results, 404 from the history endpoint', { timeout: 60_000 }, async () => {
      const c = await connect('');
      assert.deepEqual(await c.command(Command.Subscribe, 'none:1'), [1, 1, null]);
      const res = await httpPublish(server.http, 'none:1', 'x');
      assert.deepEqual(res.json, { ok: true, channel: 'none:1', size: 1 });
      assert.equal((await c.waitPublications(1))[0]!.offset, null);
      const history = await fetch(`${server.http}/v1/channels/none:1/history`);
      assert.equal(history.status, 404);
      assert.equal(((await history.json()) as { error: string }).error, 'no_history');
    });

    test('GET history: JSON data when the bytes are UTF-8 JSON, base64 otherwise; since and limit', { timeout: 60_000 }, async () => {
      await httpPublish(server.http, 'h:json', '{"a":1}');
      await httpPublish(server.http, 'h:json', Buffer.from([0xff, 0x00, 0x01]));
      await httpPublish(server.http, 'h:json', 'plain text');
      await httpPublish(server.http, 'h:json', '"quoted"');
      const res = await fetch(`${server.http}/v1/channels/h:json/history?since=0&limit=10`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { epoch: string; offset: number; publications: unknown[] };
      assert.equal(body.offset, 4);
      assert.deepEqual(body.publications, [
        { offset: 1, data: { a: 1 }, encoding: 'json' },
        { offset: 2, data: '/wAB', encoding: 'base64' },
        { offset: 3, data: Buffer.from('plain text').toString('base64'), encoding: 'base64' },
        { offset: 4, data: 'quoted', encoding: 'json' },
      ]);
      const page = (await (await fetch(`${server.http}/v1/channels/h:json/history?since=1&limit=2`)).json()) as { publications: Array<{ offset: number }> };
      assert.deepEqual(
        page.publications.map((p) => p.offset),
        [2, 3],
      );
      const bad = await fetch(`${server.http}/v1/channels/h:json/history?since=-1`);
      assert.deepEqual([bad.status, ((await bad.json()) as { error: string }).error], [400, 'invalid_parameter']);
      assert.equal((await fetch(`${server.http}/v1/channels/h:json/history`, { method: 'POST' })).status, 405);
    });

    test('bad positions are refused with documented answers', { timeout: 60_000 }, async () => {
      await assert.rejects(connect('?channels=a&since=a:x:e'), (err: Error & { status?: number }) => err.status === 400 && /offset/.test(err.message));
      await assert.rejects(
        connect('?channels=a&since=b:1:e'),
        (err: Error & { status?: number }) => err.status === 400 && /missing from channels/.test(err.message),
      );
      await assert.rejects(connect('?channels=a&positions=yes'), (err: Error & { status?: number }) => err.status === 400);
      const c = await connect('');
      assert.deepEqual((await c.command(Command.Subscribe, 'a', -1, 'e')).slice(0, 3), [2, 1, 100]);
      assert.deepEqual((await c.command(Command.Subscribe, 'a', 7)).slice(0, 3), [2, 2, 100], 'a 4th element is the flags (0 or 1)');
      assert.deepEqual((await c.command(Command.Subscribe, 'a', 1)).slice(0, 3), [2, 3, 111], 'join/leave events on a channel without presence');
    });

    test('a recovering client that disconnects repeatedly ends with the complete sequence', { timeout: 60_000 }, async () => {
      const client = new RecoveringClient([server.wsUrl()], ['seq:1']);
      await client.start();
      const publishing = publishSequence([server.http], 'seq:1', 300, 1);
      for (let i = 1; i <= 5; i++) {
        // Cut the connection once it is open again and some publications went by.
        await waitFor(`connection ${i}`, () => client.connections === i && client.socket?.readyState === 1);
        const seen = client.logs.get('seq:1')!.data.length;
        await waitFor(`publications on connection ${i}`, () => client.logs.get('seq:1')!.data.length >= seen + 3);
        client.socket!.terminate();
      }
      await publishing;
      const expected = await historyData(server.http, 'seq:1');
      await waitFor('the sixth connection', () => client.connections === 6);
      await waitFor('all 300', () => client.logs.get('seq:1')!.data.length >= 300, 10_000);
      await client.stop();
      const log = client.logs.get('seq:1')!;
      assert.deepEqual(log.data, expected.data);
      assert.equal(log.duplicates, 0);
      assert.equal(log.gaps, 0);
      assert.equal(client.connections, 6, 'reconnected after every cut');
      assert.deepEqual(log.recovered, [true, true, true, true, true], 'each of the 5 reconnects recovered');
    });
  });
}
