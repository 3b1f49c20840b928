import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { ServerProcess } from '../../harness/broadcaster';
import { startProcess } from '../../harness/processes';
import { RecoveringClient } from '../../harness/recovering-client';
import { TestRedis } from '../../harness/redis';
import { decodeCommand, encodeReply, encodeSubscribed } from '../../src/protocol/commands';
import { encodeData, encodeSequencedEnvelope, parseEnvelope } from '../../src/protocol/envelope';
import { buildPublicationFrame } from '../../src/protocol/publication-frame';

test('a process that exits before listening fails its start at once, with its output', async () => {
  const started = Date.now();
  await assert.rejects(
    startProcess({ cmd: process.execPath, args: ['-e', 'console.error("cannot bind"); process.exit(3)'] }, { timeoutMs: 30_000 }),
    /exited \(3\)[\s\S]*cannot bind/,
  );
  assert.ok(Date.now() - started < 10_000, 'not the 30 s timeout');
});

test('children do not outlive the process that started them, even when it ends with process.exit', { timeout: 20_000 }, async () => {
  const harness = require.resolve('../../harness/processes');
  const script = `const { startProcess } = require(${JSON.stringify(harness)});
    startProcess({ cmd: 'sleep', args: ['30'] }, { listeningLines: 0 }).then((p) => { console.log(JSON.stringify({ msg: 'child', pid: p.pid })); process.exit(1); });`;
  const parent = await startProcess({ cmd: process.execPath, args: ['-e', script] }, { listeningLines: 0 });
  const line = await parent.waitForLog('the child pid', (l) => l.msg === 'child');
  await parent.exited();
  const pid = line.pid as number;
  const gone = (): boolean => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  for (let waited = 0; !gone(); waited += 20) {
    if (waited > 5000) assert.fail(`the child ${pid} still runs after its parent exited`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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

/** The publication frame of `offset` on channel c, epoch e. */
function publication(offset: number): Buffer {
  const envelope = encodeSequencedEnvelope(encodeData(`m${offset}`), offset, 'e', 0);
  const view = parseEnvelope(envelope);
  if (typeof view === 'string') throw new Error(view);
  return buildPublicationFrame('c', envelope, view);
}

test('the recovering client counts the repairs it makes itself: a subscribe from its position per offset gap', { timeout: 20_000 }, async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  );
  await new Promise((resolve) => wss.once('listening', resolve));
  const commands: unknown[] = [];
  wss.on('connection', (ws) => {
    ws.send(encodeSubscribed('c', { offset: 0, epoch: 'e' }));
    ws.send(publication(1));
    ws.send(publication(3)); // 2 is missing: the client must ask for it
    ws.on('message', (bytes: Buffer) => {
      const cmd = decodeCommand(new Uint8Array(bytes), 1000);
      commands.push(cmd);
      if (cmd.op === 1) {
        ws.send(publication(2));
        ws.send(publication(3));
        ws.send(encodeReply(cmd.id, { offset: 3, epoch: 'e', recovered: true }));
      }
    });
  });
  const client = new RecoveringClient([`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`], ['c']);
  t.after(() => client.stop());
  await client.start();
  const deadline = Date.now() + 5000;
  while ((client.logs.get('c')?.data.length ?? 0) < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(client.logs.get('c')?.data, ['m1', 'm2', 'm3']);
  assert.equal(client.repairs, 1);
  assert.deepEqual(commands, [{ op: 1, id: 1, channel: 'c', since: { offset: 1, epoch: 'e' }, joinLeave: false }]);
  assert.deepEqual(client.positions.get('c'), { offset: 3, epoch: 'e' });
});
