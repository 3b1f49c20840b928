import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DrainHold } from '../helpers/drain-hold';
import { freePort, freePortRange } from '../helpers/free-port';
import { scrapeMetrics } from '../helpers/metrics-text';
import { ReconnectingClient } from '../helpers/reconnecting-client';
import { TestRedis } from '../helpers/redis-server';
import { ServerProcess, type LogLine } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Worker pids that logged `msg`, by worker index (latest wins). */
const workersWith = (server: ServerProcess, msg: string): Map<number, number> => {
  const byIndex = new Map<number, number>();
  for (const line of server.logs) if (line.msg === msg && typeof line.worker === 'number') byIndex.set(line.worker, line.pid as number);
  return byIndex;
};
const allWorkerPids = (server: ServerProcess): Set<number> =>
  new Set(server.logs.filter((l: LogLine) => l.msg === 'worker started').map((l) => l.workerPid as number));
const redisClientNames = async (redis: TestRedis): Promise<string> => {
  const conn = redis.client();
  try {
    return String(await conn.client('LIST'));
  } finally {
    conn.disconnect();
  }
};

async function startSupervisor(redis: TestRedis, port: number, extra: string[] = []): Promise<ServerProcess> {
  const server = await ServerProcess.start(['--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--redis-url', redis.url, ...extra]);
  await waitFor('both workers ready', () => workersWith(server, 'broker ready').size === 2, 10_000);
  return server;
}

describe('supervisor (--workers 2 with Redis)', { timeout: 360_000 }, () => {
  test('replaces a killed worker; SIGTERM drains every worker (1001, Redis closed while draining) and the supervisor exits 0', { timeout: 90_000 }, async () => {
    const redis = await TestRedis.start();
    const port = await freePort();
    const adminBase = await freePortRange(2);
    const server = await startSupervisor(redis, port, ['--admin-port', String(adminBase)]);
    const clients: TestClient[] = [];
    const holds: DrainHold[] = [];
    try {
      assert.ok(server.logs.some((l) => l.msg === 'supervisor starting workers' && l.workers === 2));
      const victim = workersWith(server, 'broker ready').get(0)!;
      assert.ok(readFileSync(`/proc/${victim}/cmdline`, 'utf8').split('\0').includes('--max-semi-space-size=2'), 'workers run with the young-generation cap');
      assert.equal(readlinkSync(`/proc/${victim}/exe`), readlinkSync(`/proc/${server.pid}/exe`), "workers run on the supervisor's node binary");
      process.kill(victim, 'SIGKILL');
      await waitFor('the crash to be logged', () => server.logs.some((l) => l.msg === 'worker exited unexpectedly; restarting it' && l.workerPid === victim && l.signal === 'SIGKILL'));
      const crash = server.logs.find((l) => l.msg === 'worker exited unexpectedly; restarting it')!;
      assert.equal(crash.worker, 0);
      assert.equal(crash.restartInMs, 100, 'first crash: shortest back-off');
      await waitFor('a replacement worker 0 to be ready', () => {
        const pid = workersWith(server, 'broker ready').get(0);
        return pid !== undefined && pid !== victim;
      }, 10_000);
      assert.equal(isAlive(victim), false);
      assert.equal(allWorkerPids(server).size, 3);

      // Both processes serve the port: connect until each worker holds a client (the kernel spreads
      // them), then every client gets every message, in order, wherever it landed.
      const connectionsOf = async (worker: number): Promise<number> =>
        (await scrapeMetrics(`http://127.0.0.1:${adminBase + worker}/metrics`)).get('broadcaster_connections') ?? 0;
      for (let i = 0; i < 200 && (clients.length < 12 || (await connectionsOf(0)) === 0 || (await connectionsOf(1)) === 0); i++) {
        clients.push(await TestClient.connect(`ws://127.0.0.1:${port}/ws?channels=sup:1`));
      }
      assert.ok((await connectionsOf(0)) > 0 && (await connectionsOf(1)) > 0, 'both workers got clients');
      assert.equal((await connectionsOf(0)) + (await connectionsOf(1)), clients.length);
      const sent = Array.from({ length: 5 }, (_, i) => `m${i}`);
      for (const m of sent) assert.equal((await httpPublish(`http://127.0.0.1:${port}`, 'sup:1', m)).status, 200);
      for (const client of clients) assert.deepEqual((await client.waitPublications(5, 'sup:1')).map((p) => String(p.data)), sent);
      assert.match(await redisClientNames(redis), /broadcaster-sub[\s\S]*broadcaster-sub/, 'one subscriber connection per worker');

      holds.push(await DrainHold.open(adminBase), await DrainHold.open(adminBase + 1));
      let exited = false;
      void server.exited().then(() => (exited = true));
      server.signal('SIGTERM');
      for (const client of clients) {
        const closed = await client.waitClosed(10_000);
        assert.equal(closed.code, 1001);
      }
      // Both workers are held in their drain: only their own broker close can end these connections.
      await waitFor('every worker to close its Redis connections', async () => !/broadcaster-(pub|sub)/.test(await redisClientNames(redis)));
      assert.equal(exited, false, 'checked while the workers drain');
      for (const hold of holds) hold.release();
      assert.equal(await server.exited(), 0);
      assert.ok(server.logs.some((l) => l.msg === 'supervisor stopped' && l.clean === true));
      assert.equal(server.logs.filter((l) => l.msg === 'stopped').length, 2, 'both live workers drained');
      for (const pid of allWorkerPids(server)) assert.equal(isAlive(pid), false, `worker ${pid} gone`);
      assert.doesNotMatch(await redisClientNames(redis), /broadcaster-(pub|sub)/);
    } finally {
      for (const hold of holds) hold.destroy();
      await Promise.allSettled(clients.map((c) => c.close()));
      await server.stop();
      await redis.kill();
    }
  });

  test('SIGHUP: rolling restart moves clients (1001, reconnect to the same port) and they keep receiving', { timeout: 90_000 }, async (t) => {
    const redis = await TestRedis.start();
    const port = await freePort();
    const server = await startSupervisor(redis, port);
    const clients: ReconnectingClient[] = [];
    try {
      const before = new Set(workersWith(server, 'broker ready').values());
      for (let i = 0; i < 12; i++) clients.push(await ReconnectingClient.connect(`ws://127.0.0.1:${port}/ws?channels=roll:1`));
      server.signal('SIGHUP');
      await waitFor('the rolling restart to finish', () => server.logs.some((l) => l.msg === 'rolling restart done'), 20_000);
      const after = new Set(workersWith(server, 'broker ready').values());
      assert.equal(after.size, 2);
      for (const pid of after) assert.ok(!before.has(pid), 'every worker was replaced');
      for (const pid of before) assert.equal(isAlive(pid), false);
      await waitFor('every client to be connected again', () => clients.every((c) => c.open), 10_000);
      for (const client of clients) {
        assert.ok(client.closes.length >= 1, 'each client was moved at least once');
        assert.ok(client.closes.every((code) => code === 1001), `only going-away closes, got ${client.closes.join(',')}`);
      }
      const sent = Array.from({ length: 5 }, (_, i) => `after${i}`);
      for (const m of sent) assert.equal((await httpPublish(`http://127.0.0.1:${port}`, 'roll:1', m)).status, 200);
      for (const client of clients) assert.deepEqual((await client.current.waitPublications(5, 'roll:1')).map((p) => String(p.data)), sent);
      t.diagnostic(`reconnects ${clients.reduce((n, c) => n + c.reconnects, 0)}, refused reconnect attempts ${clients.reduce((n, c) => n + c.failedAttempts, 0)}`);
      assert.ok(!server.logs.some((l) => l.msg === 'worker exited unexpectedly; restarting it'), 'no worker crashed');
    } finally {
      await Promise.allSettled(clients.map((c) => c.close()));
      await server.stop();
      await redis.kill();
    }
  });
});
