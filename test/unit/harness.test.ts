import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerProcess } from '../../harness/broadcaster';
import { startProcess } from '../../harness/processes';
import { TestRedis } from '../../harness/redis';

test('a process that exits before listening fails its start at once, with its output', async () => {
  const started = Date.now();
  await assert.rejects(
    startProcess({ cmd: process.execPath, args: ['-e', 'console.error("cannot bind"); process.exit(3)'] }, { timeoutMs: 30_000 }),
    /exited \(3\)[\s\S]*cannot bind/,
  );
  assert.ok(Date.now() - started < 10_000, 'not the 30 s timeout');
});

test('waiting for a log line fails as soon as the process exits', async () => {
  const proc = await startProcess(
    { cmd: process.execPath, args: ['-e', 'console.log(JSON.stringify({ msg: "listening", port: 1234 })); setTimeout(() => process.exit(0), 100)'] },
    { timeoutMs: 10_000 },
  );
  assert.equal(proc.port, 1234, 'the port comes from the listening line');
  await assert.rejects(
    proc.waitForLog('a line that never comes', () => false, 30_000),
    /exited \(0\) while waiting/,
  );
});

test('a broadcaster refusing its options fails ServerProcess.start with its error', async () => {
  await assert.rejects(ServerProcess.start(['--port', 'not-a-port']), /exited \(2\)[\s\S]*port/);
});

test('the Redis helper notices that its redis-server died', async (t) => {
  const redis = await TestRedis.start();
  t.after(() => redis.kill());
  const client = redis.client();
  assert.equal(await client.ping(), 'PONG');
  client.disconnect();
  process.kill(redis.pid, 'SIGKILL');
  while (redis.alive()) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.throws(() => redis.assertAlive(), /exited unexpectedly/);
  assert.throws(() => redis.client(), /exited unexpectedly/);
  await redis.restart();
  redis.assertAlive();
});
