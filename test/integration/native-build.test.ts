import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { unpack } from 'msgpackr';
import WebSocket from 'ws';
import { scrapeMetrics } from '../helpers/metrics-text';
import { freePort } from '../helpers/free-port';
import { TestRedis } from '../helpers/redis-server';
import { ServerProcess, startReady } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

/** The build this Node line must get: the current one from Node 21 on (no legacy addon exists there). */
const mustBeCurrent = Number(process.versions.node.split('.')[0]) >= 21;

function buildLog(server: ServerProcess): Record<string, unknown> {
  const line = server.logs.find((l) => l.msg === 'uWebSockets.js native build loaded');
  assert.ok(line, 'the server logs which uWebSockets.js build it loaded');
  return line;
}

describe('the native uWebSockets.js build', { timeout: 60_000 }, () => {
  test('each process logs the build it runs on, maps that addon, and two processes deliver through Redis', { timeout: 60_000 }, async () => {
    const redis = await TestRedis.start();
    const servers: ServerProcess[] = [];
    const clients: TestClient[] = [];
    try {
      for (let i = 0; i < 2; i++) servers.push(await startReady(redis.url, []));
      for (const server of servers) {
        const build = buildLog(server);
        assert.equal(build.node, process.version);
        assert.equal(build.nodeAbi, process.versions.modules);
        const binary = build.uwsBinary as string;
        assert.match(binary, new RegExp(`uws_${process.platform}_${process.arch}_${process.versions.modules}\\.node$`));
        assert.ok(readFileSync(`/proc/${server.pid}/maps`, 'utf8').includes(binary), `process ${server.pid} maps ${binary}`);
        if (mustBeCurrent) assert.equal(build.uwsBuild, 'current', `Node ${process.version} runs the current build`);
        else assert.ok(['current', 'legacy'].includes(build.uwsBuild as string));
        assert.equal(build.uwsVersion, build.uwsBuild === 'current' ? '20.57.0' : '20.30.0-unofficial.0');
      }
      const [a, b] = servers as [ServerProcess, ServerProcess];
      clients.push(await TestClient.connect(b.wsUrl('?channels=build:1')));
      for (let i = 0; i < 5; i++) assert.equal((await httpPublish(a.http, 'build:1', `m${i}`)).status, 200);
      const got = await clients[0]!.waitPublications(5, 'build:1');
      assert.deepEqual(got.map((p) => p.data.toString()), ['m0', 'm1', 'm2', 'm3', 'm4']);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(servers.map((s) => s.stop()));
      await redis.kill();
    }
  });

  test('build_info carries the build labels; the drop policy counts what uWS dropped for a slow consumer', { timeout: 60_000 }, async () => {
    const adminPort = await freePort();
    const server = await ServerProcess.start([
      '--port', '0', '--host', '127.0.0.1', '--admin-port', String(adminPort),
      '--slow-consumer-policy', 'drop', '--max-message-size', '65536', '--max-backpressure', '70000', '--memory-batch-ms', '0', '--fanout-window-ms', '0',
    ]);
    const slow = new WebSocket(server.wsUrl('?channels=slow:1'));
    let received = 0;
    slow.on('message', (bytes: Buffer) => {
      if ((unpack(bytes) as unknown[])[0] === 0) received++;
    });
    try {
      await new Promise((resolve, reject) => slow.once('open', resolve).once('error', reject));
      const build = buildLog(server);
      const metrics = `http://127.0.0.1:${adminPort}/metrics`;
      const labels = `uws_build="${build.uwsBuild as string}",uws_version="${build.uwsVersion as string}",node_version="${process.version}",node_abi="${process.versions.modules}",glibc="${(build.glibc as string | null) ?? 'none'}"`;
      assert.equal((await scrapeMetrics(metrics)).get(`broadcaster_build_info{${labels}}`), 1);

      // The client stops reading: the kernel buffers fill, then uWS's, then it skips publications.
      (slow as unknown as { _socket: { pause(): void } })._socket.pause();
      const payload = Buffer.alloc(60_000, 7);
      for (let i = 0; i < 300; i++) assert.equal((await httpPublish(server.http, 'slow:1', payload)).status, 200);
      const drops = async (): Promise<number> => (await scrapeMetrics(metrics)).get('broadcaster_slow_consumer_drops_total') ?? -1;
      if (build.uwsBuild === 'current') {
        await waitFor('uWS to report dropped frames', async () => (await drops()) > 0);
        // Every publication either reached the client or was counted as dropped: exact accounting.
        (slow as unknown as { _socket: { resume(): void } })._socket.resume();
        const dropped = await drops();
        assert.ok(dropped < 300, `some publications were sent (${dropped} dropped)`);
        await waitFor(`received (${received}) + dropped (${dropped}) = 300`, () => received === 300 - dropped, 10_000);
        assert.equal(await drops(), dropped, 'nothing more dropped once the client reads');
      } else {
        assert.equal(await drops(), 0, 'the legacy build has no dropped handler: the counter stays 0');
      }
      assert.equal(slow.readyState, WebSocket.OPEN, 'the drop policy keeps the slow client connected');
    } finally {
      slow.terminate();
      await server.stop();
    }
  });
});
