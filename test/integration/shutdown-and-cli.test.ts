import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { DrainHold } from '../helpers/drain-hold';
import { freePort } from '../helpers/free-port';
import { TestRedis } from '../helpers/redis-server';
import { CLI, ServerProcess } from '../helpers/server-process';
import { TestClient } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

/** Names of the broadcaster connections Redis holds right now. */
async function broadcasterConnections(redis: TestRedis): Promise<string[]> {
  const conn = redis.client();
  try {
    return String(await conn.client('LIST')).match(/name=broadcaster-\S+/g) ?? [];
  } finally {
    conn.disconnect();
  }
}

describe('shutdown', { timeout: 240_000 }, () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal}: clients get close 1001 "reconnect", Redis is closed while the process drains, exit code 0`, { timeout: 60_000 }, async () => {
      const redis = await TestRedis.start();
      let hold: DrainHold | null = null;
      try {
        const adminPort = await freePort();
        const server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--redis-url', redis.url, '--admin-port', String(adminPort)]);
        const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(server.wsUrl('?channels=s:1'))));
        await waitFor('both Redis connections', async () => (await broadcasterConnections(redis)).length === 2);
        hold = await DrainHold.open(adminPort);
        let exited = false;
        void server.exited().then(() => (exited = true));
        server.signal(signal);
        for (const client of clients) {
          const closed = await client.waitClosed();
          assert.equal(closed.code, 1001);
          assert.match(closed.reason, /reconnect/);
        }
        // The process is still alive (held in its drain), so only its own close can have ended these.
        await waitFor('the broker to close its Redis connections', async () => (await broadcasterConnections(redis)).length === 0);
        assert.equal(exited, false, 'checked while the process drains, not after it exited');
        assert.ok(!server.logs.some((l) => l.msg === 'stopped'));
        hold.release();
        assert.equal(await server.exited(), 0);
        assert.ok(server.logs.some((l) => l.msg === 'stopped'));
        await assert.rejects(fetch(`${server.http}/healthz`), 'no longer listening');
      } finally {
        hold?.destroy();
        await redis.kill();
      }
    });
  }

  test('--shutdown-timeout: a drain that does not finish in time exits 1 and says why', { timeout: 30_000 }, async () => {
    const adminPort = await freePort();
    const server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--admin-port', String(adminPort), '--shutdown-timeout', '500']);
    const hold = await DrainHold.open(adminPort);
    try {
      server.signal('SIGTERM');
      assert.equal(await server.exited(), 1);
      const line = server.logs.find((l) => l.msg === 'shutdown took longer than --shutdown-timeout; exiting');
      assert.equal(line?.timeoutMs, 500);
      assert.ok(!server.logs.some((l) => l.msg === 'stopped'));
    } finally {
      hold.destroy();
    }
  });
});

describe('command line', { timeout: 240_000 }, () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10_000 });

  test('--help lists the options and exits 0', { timeout: 60_000 }, () => {
    const res = run(['--help']);
    assert.equal(res.status, 0);
    assert.match(res.stdout, /--redis-url/);
    assert.match(res.stdout, /BROADCASTER_PORT/);
  });

  test('a bad value exits 2 naming the option and what is allowed', { timeout: 60_000 }, () => {
    const res = run(['--port', 'nine']);
    assert.equal(res.status, 2);
    assert.match(res.stderr, /invalid port "nine" from --port: set --port \/ BROADCASTER_PORT to an integer from 0 to 65535/);
    const env = run([], { BROADCASTER_LOG_LEVEL: 'chatty' });
    assert.equal(env.status, 2);
    assert.match(env.stderr, /BROADCASTER_LOG_LEVEL/);
  });

  test('refuses the pure-JS uWebSockets.js fallback with an explanation', { timeout: 60_000 }, () => {
    const res = run(['--port', '0'], { UWS_USE_FALLBACK: '1' });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /UWS_USE_FALLBACK is set.*unset UWS_USE_FALLBACK/);
  });

  test('environment variables configure the server', { timeout: 60_000 }, async () => {
    const server = await ServerProcess.start([], { BROADCASTER_PORT: '0', BROADCASTER_HOST: '127.0.0.1' });
    try {
      assert.ok(server.port > 0);
      assert.equal(server.logs.find((l) => l.msg === 'listening')?.host, '127.0.0.1');
    } finally {
      await server.stop();
    }
  });
});
