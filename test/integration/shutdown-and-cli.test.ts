import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { TestRedis } from '../helpers/redis-server';
import { CLI, ServerProcess } from '../helpers/server-process';
import { TestClient } from '../helpers/test-client';

describe('shutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal}: clients get close 1001 "reconnect", Redis is closed, exit code 0`, async () => {
      const redis = await TestRedis.start();
      try {
        const server = await ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--redis-url', redis.url]);
        const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(server.wsUrl('?channels=s:1'))));
        server.signal(signal);
        for (const client of clients) {
          const closed = await client.waitClosed();
          assert.equal(closed.code, 1001);
          assert.match(closed.reason, /reconnect/);
        }
        assert.equal(await server.exited(), 0);
        assert.ok(server.logs.some((l) => l.msg === 'stopped'));
        await assert.rejects(fetch(`${server.http}/healthz`), 'no longer listening');
        const conn = redis.client();
        const list = String(await conn.client('LIST'));
        conn.disconnect();
        assert.doesNotMatch(list, /broadcaster-(pub|sub)/, 'both Redis connections closed');
      } finally {
        await redis.kill();
      }
    });
  }
});

describe('command line', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10_000 });

  test('--help lists the options and exits 0', () => {
    const res = run(['--help']);
    assert.equal(res.status, 0);
    assert.match(res.stdout, /--redis-url/);
    assert.match(res.stdout, /BROADCASTER_PORT/);
  });

  test('a bad value exits 2 naming the option and what is allowed', () => {
    const res = run(['--port', 'nine']);
    assert.equal(res.status, 2);
    assert.match(res.stderr, /invalid port "nine" from --port: set --port \/ BROADCASTER_PORT to an integer from 0 to 65535/);
    const env = run([], { BROADCASTER_LOG_LEVEL: 'chatty' });
    assert.equal(env.status, 2);
    assert.match(env.stderr, /BROADCASTER_LOG_LEVEL/);
  });

  test('refuses the pure-JS uWebSockets.js fallback with an explanation', () => {
    const res = run(['--port', '0'], { UWS_USE_FALLBACK: '1' });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /UWS_USE_FALLBACK is set.*unset UWS_USE_FALLBACK/);
  });

  test('environment variables configure the server', async () => {
    const server = await ServerProcess.start([], { BROADCASTER_PORT: '0', BROADCASTER_HOST: '127.0.0.1' });
    try {
      assert.ok(server.port > 0);
      assert.equal(server.logs.find((l) => l.msg === 'listening')?.host, '127.0.0.1');
    } finally {
      await server.stop();
    }
  });
});
