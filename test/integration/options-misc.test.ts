import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { pack } from 'msgpackr';
import { Command } from '../../src/protocol/opcodes';
import { freePort } from '../helpers/free-port';
import { CLI, ServerProcess } from '../helpers/server-process';
import { TestClient } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

const BASE = ['--workers', '1', '--port', '0', '--host', '127.0.0.1'];

describe('options without a test of their own elsewhere', { timeout: 120_000 }, () => {
  test('--admin-host: the admin listener binds that address only', { timeout: 30_000 }, async () => {
    const adminPort = await freePort();
    const server = await ServerProcess.start([...BASE, '--admin-port', String(adminPort), '--admin-host', '127.0.0.2']);
    try {
      await server.waitForLog('the admin listening line', (l) => l.msg === 'admin listening' && l.host === '127.0.0.2' && l.port === adminPort);
      assert.equal((await fetch(`http://127.0.0.2:${adminPort}/healthz`)).status, 200);
      await assert.rejects(fetch(`http://127.0.0.1:${adminPort}/healthz`), 'nothing listens on 127.0.0.1');
    } finally {
      await server.stop();
    }
  });

  test('--log-level warn: no info lines, warnings still logged', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const proc = spawn(process.execPath, [CLI, '--workers', '1', '--port', String(port), '--host', '127.0.0.1', '--log-level', 'warn', '--redis-url', 'redis://127.0.0.1:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Array<{ level: number; msg: string }> = [];
    createInterface({ input: proc.stdout! }).on('line', (line) => lines.push(JSON.parse(line) as { level: number; msg: string }));
    const exited = once(proc, 'exit');
    try {
      // Port 1 refuses: the broker warns that Redis is unreachable, while nothing at info level shows.
      await waitFor('a warning', () => lines.some((l) => l.level === 40));
      await waitFor('the port to answer', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0)) === 200);
    } finally {
      proc.kill('SIGTERM');
      await exited;
    }
    assert.ok(lines.length > 0);
    assert.deepEqual(lines.filter((l) => l.level < 40), [], 'nothing below warn');
  });

  for (const batch of ['0', '20']) {
    test(`--memory-batch-ms ${batch}: every publication arrives once, in order`, { timeout: 30_000 }, async () => {
      // --client-publish '*': the publications come from a WebSocket client (client publishing is off by default).
      const server = await ServerProcess.start([...BASE, '--memory-batch-ms', batch, '--rate-limit-messages', '0', '--client-publish', '*']);
      try {
        const sub = await TestClient.connect(server.wsUrl('?channels=batch:1'));
        const pub = await TestClient.connect(server.wsUrl());
        for (let i = 1; i <= 200; i++) pub.ws.send(pack([Command.Publish, i, 'batch:1', String(i)]));
        const got = await sub.waitPublications(200);
        assert.deepEqual(got.map((p) => [p.offset, p.data]), Array.from({ length: 200 }, (_, i) => [i + 1, String(i + 1)]));
        await Promise.all([sub.close(), pub.close()]);
      } finally {
        await server.stop();
      }
    });
  }
});
