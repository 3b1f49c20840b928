import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { OPTION_SPECS, defaultOptions } from '../../src/config/options';
import { freePort } from '../helpers/free-port';
import { freePortRange } from '../helpers/port-range';
import { ReconnectingClient } from '../helpers/reconnecting-client';
import { TestRedis } from '../helpers/redis-server';
import { CLI, ServerProcess } from '../helpers/server-process';
import { httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

const root = join(__dirname, '..', '..', '..');
const systemdDir = join(root, 'scripts', 'systemd');
const read = (name: string): string => readFileSync(join(systemdDir, name), 'utf8');
const setting = (unit: string, key: string): string | undefined => unit.match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1];
/** True while `pid` runs (a zombie waiting for its new parent to reap it counts as gone). */
const isAlive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('systemd units and scripts', { timeout: 480_000 }, () => {
  test('the unit files pass systemd-analyze verify (ExecStart rewritten as install.sh does)', { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'broadcaster-units-'));
    try {
      const unit = read('broadcaster@.service')
        .replace(/^ExecStart=.*$/m, `ExecStart=${process.execPath} ${CLI}`)
        .replace(/^WorkingDirectory=.*$/m, `WorkingDirectory=${root}`);
      writeFileSync(join(dir, 'broadcaster@.service'), unit);
      symlinkSync('broadcaster@.service', join(dir, 'broadcaster@3.service'));
      copyFileSync(join(systemdDir, 'broadcaster.target'), join(dir, 'broadcaster.target'));
      const res = spawnSync('systemd-analyze', ['verify', ...['broadcaster@.service', 'broadcaster@3.service', 'broadcaster.target'].map((f) => join(dir, f))], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(res.error, undefined, `systemd-analyze did not run (${res.error?.message}): install it with apt-get install -y systemd, as .ci/run does`);
      assert.equal(res.status, 0, `systemd-analyze verify failed:\n${res.stderr}${res.stdout}`);
      assert.equal(res.stderr.trim(), '', 'no warnings');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the unit drains within TimeoutStopSec, restarts forever, is hardened; env example and sysctl drop-in are documented', { timeout: 120_000 }, () => {
    const unit = read('broadcaster@.service');
    const env = read('broadcaster.env.example');
    const timeoutStopMs = Number(setting(unit, 'TimeoutStopSec')) * 1000;
    const envTimeout = Number(env.match(/^BROADCASTER_SHUTDOWN_TIMEOUT=(\d+)$/m)?.[1]);
    assert.ok(timeoutStopMs > defaultOptions().shutdownTimeout && timeoutStopMs > envTimeout, 'TimeoutStopSec longer than the drain period');
    assert.equal(setting(unit, 'Restart'), 'always');
    assert.ok(Number(setting(unit, 'RestartSec')) >= 1);
    assert.ok(Number(setting(unit, 'LimitNOFILE')) >= 65536);
    for (const [key, value] of [['NoNewPrivileges', 'yes'], ['DynamicUser', 'yes'], ['ProtectSystem', 'strict'], ['Environment', 'BROADCASTER_INSTANCE=%i'], ['Environment', 'NODE_OPTIONS=--max-semi-space-size=2']]) {
      assert.ok(unit.includes(`${key}=${value}`), `${key}=${value}`);
    }
    const envNames = new Set(OPTION_SPECS.map((s) => s.env));
    for (const line of env.split('\n').filter((l) => /^[A-Z]/.test(l))) assert.ok(envNames.has(line.split('=')[0]!), `${line} is an option`);
    const deployment = readFileSync(join(root, 'docs', 'DEPLOYMENT.md'), 'utf8');
    for (const line of read('99-broadcaster.conf').split('\n').filter((l) => /^[a-z]/.test(l))) {
      const key = line.split('=')[0]!.trim();
      assert.ok(deployment.includes(`\`${key}\``), `docs/DEPLOYMENT.md explains ${key}`);
    }
    for (const script of [join(systemdDir, 'install.sh'), join(root, 'scripts', 'rolling-restart.sh')]) {
      assert.equal(spawnSync('bash', ['-n', script]).status, 0, `${script} parses`);
    }
  });

  test('rolling-restart.sh restarts instances one at a time; clients move to the other instance and keep receiving', { timeout: 120_000 }, async (t) => {
    const redis = await TestRedis.start();
    const port = await freePort();
    const adminBase = await freePortRange(2);
    const state = mkdtempSync(join(tmpdir(), 'broadcaster-rolling-'));
    const common = ['--workers', '1', '--port', String(port), '--host', '127.0.0.1', '--redis-url', redis.url, '--admin-port', String(adminBase)];
    const first: ServerProcess[] = [];
    const clients: ReconnectingClient[] = [];
    // Stands in for systemctl: "restart broadcaster@N.service" stops instance N by PID (SIGTERM,
    // wait for exit) and starts a new one, recording its PID for cleanup.
    const fake = join(state, 'systemctl');
    writeFileSync(fake, `#!/usr/bin/env bash
set -euo pipefail
[ "$1" = restart ] || { echo "fake systemctl: only restart is supported" >&2; exit 2; }
i="\${2#broadcaster@}"; i="\${i%.service}"
pid="$(cat "$STATE/$i.pid")"
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
"$NODE" "$CLI" $ARGS --instance "$i" </dev/null >>"$STATE/$i.log" 2>&1 &
echo $! > "$STATE/$i.pid"
`);
    chmodSync(fake, 0o755);
    try {
      for (const i of [0, 1]) {
        const server = await ServerProcess.start([...common, '--instance', String(i)]);
        first.push(server);
        writeFileSync(join(state, `${i}.pid`), String(server.pid));
        await waitFor(`instance ${i} ready`, () => server.logs.some((l) => l.msg === 'broker ready'));
        assert.ok(server.logs.some((l) => l.msg === 'admin listening' && l.port === adminBase + i), 'admin port = base + instance');
      }
      for (let i = 0; i < 12; i++) clients.push(await ReconnectingClient.connect(`ws://127.0.0.1:${port}/ws?channels=rr:1`));

      const script = spawn('bash', [join(root, 'scripts', 'rolling-restart.sh'), '--instances', '0 1', '--admin-port', String(adminBase), '--timeout', '20'], {
        env: { ...process.env, SYSTEMCTL: fake, STATE: state, NODE: process.execPath, CLI, ARGS: common.join(' ') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      script.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      script.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      const [code] = await once(script, 'exit');
      assert.equal(code, 0, output);
      assert.match(output, /broadcaster@0\.service is ready[\s\S]*restarting broadcaster@1\.service[\s\S]*done: 2 instance/);
      for (const server of first) assert.equal(await server.exited(), 0, 'old instance drained and exited 0');

      await waitFor('every client to be connected again', () => clients.every((c) => c.open), 10_000);
      for (const client of clients) {
        assert.ok(client.closes.length >= 1 && client.closes.every((c) => c === 1001), `closes ${client.closes.join(',')}`);
      }
      const sent = Array.from({ length: 5 }, (_, i) => `after${i}`);
      for (const m of sent) assert.equal((await httpPublish(`http://127.0.0.1:${port}`, 'rr:1', m)).status, 200);
      for (const client of clients) assert.deepEqual((await client.current.waitPublications(5, 'rr:1')).map((p) => String(p.data)), sent);
      t.diagnostic(`reconnects ${clients.reduce((n, c) => n + c.reconnects, 0)}, refused reconnect attempts ${clients.reduce((n, c) => n + c.failedAttempts, 0)}`);
    } finally {
      await Promise.allSettled(clients.map((c) => c.close()));
      await Promise.allSettled(first.map((s) => s.stop()));
      for (const i of [0, 1]) {
        const file = join(state, `${i}.pid`);
        if (!existsSync(file)) continue;
        const pid = Number(readFileSync(file, 'utf8'));
        if (first.some((s) => s.pid === pid) || !isAlive(pid)) continue;
        process.kill(pid, 'SIGTERM');
        await waitFor(`restarted instance ${i} (pid ${pid}) to exit`, () => !isAlive(pid), 10_000).catch(() => process.kill(pid, 'SIGKILL'));
      }
      rmSync(state, { recursive: true, force: true });
      await redis.kill();
    }
  });
});
