import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { NetnsLab } from '../helpers/netns';
import { CLI } from '../helpers/server-process';
import { sleep } from '../helpers/wait';

const unavailable = NetnsLab.unavailableReason();
const skip = unavailable === null ? false : `skipped: ${unavailable}`;
const REDIS_PORTS = [7001, 7002, 7003]; // inside the lab's redis namespace, not the machine's
const HTTP_PORT = 9001; // inside each host namespace
const DRIVER = join(__dirname, '..', 'helpers', 'hosts-driver.js');

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.split(' ')[0]!);
}

type Line = Record<string, unknown>;

/**
 * JSON lines of a child's stdout. `after(from, …)` waits for the first line at index ≥ `from` matching a predicate and
 * gives its index: events the driver reports in either order (a host's readiness, a client's move) are each looked for
 * from the moment that caused them, never from where the previous wait stopped.
 */
function lines(child: ChildProcess): { all: Line[]; after: (from: number, what: string, match: (l: Line) => boolean, timeoutMs?: number) => Promise<{ line: Line; index: number }> } {
  const all: Line[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    all.push(JSON.parse(line) as Line);
    for (const wake of waiters.splice(0)) wake();
  });
  const after = async (from: number, what: string, match: (l: Line) => boolean, timeoutMs = 20_000): Promise<{ line: Line; index: number }> => {
    const deadline = Date.now() + timeoutMs;
    for (let index = from; ; ) {
      for (; index < all.length; index++) {
        const line = all[index]!;
        if (line.error !== undefined) throw new Error(`driver failed: ${String(line.error)}`);
        if (match(line)) return { line, index };
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; driver said ${JSON.stringify(all.slice(-5))}`);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), sleep(200)]);
    }
  };
  return { all, after };
}

async function inLab(lab: NetnsLab, host: string, command: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await lab.run(host, command, args);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} in ${host} exited ${code}: ${stderr}${stdout}`);
  return stdout;
}

/** A 3-master Redis Cluster inside host `redis`, announcing the host's lab address. */
async function startCluster(lab: NetnsLab, dir: string): Promise<string[]> {
  const address = lab.host('redis').address;
  for (const port of REDIS_PORTS) {
    const node = join(dir, String(port));
    execFileSync('mkdir', ['-p', node]);
    lab.spawn('redis', 'redis-server', [
      '--port', String(port), '--bind', '0.0.0.0', '--protected-mode', 'no', '--cluster-enabled', 'yes', '--cluster-announce-ip', address,
      '--cluster-config-file', join(node, 'nodes.conf'), '--dir', node, '--cluster-node-timeout', '1000', '--save', '', '--appendonly', 'no',
    ]);
  }
  const nodes = REDIS_PORTS.map((p) => `${address}:${p}`);
  for (const port of REDIS_PORTS) {
    for (let i = 0; !(await lab.run('redis', 'redis-cli', ['-h', address, '-p', String(port), 'ping'])).stdout.includes('PONG'); i++) {
      if (i > 100) throw new Error(`redis ${port} in the lab did not start`);
      await sleep(50);
    }
  }
  await inLab(lab, 'redis', 'redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
  for (const port of REDIS_PORTS) {
    for (let i = 0; !(await inLab(lab, 'redis', 'redis-cli', ['-h', address, '-p', String(port), 'cluster', 'info'])).includes('cluster_state:ok'); i++) {
      if (i > 200) throw new Error(`cluster node ${port} not ok`);
      await sleep(50);
    }
  }
  return nodes;
}

test(
  'three broadcaster hosts and a Redis Cluster in namespaces: cross-host delivery; a host cut from Redis reports 503, its clients move and recover, it catches up after healing; nothing left behind',
  { skip, timeout: 120_000 },
  async () => {
    const lab = NetnsLab.create(['redis', 'h1', 'h2', 'h3', 'cl']);
    const made = lab.namespaces;
    const dir = mkdtempSync(join(tmpdir(), 'bc-hosts-'));
    try {
      // Hosts reach Redis over a direct cable each (cut one: that host alone loses Redis), clients reach hosts over the switch.
      for (const h of ['h1', 'h2', 'h3']) lab.direct(h, 'redis');
      const nodes = await startCluster(lab, dir);
      const hosts = ['h1', 'h2', 'h3'].map((name) => {
        const address = lab.host(name).address;
        lab.spawn(name, process.execPath, [
          CLI, '--port', String(HTTP_PORT), '--host', address, '--workers', '1', '--log-level', 'warn',
          '--redis-cluster-nodes', nodes.join(','), '--redis-probe-interval', '200', '--redis-probe-timeout', '1000',
          '--trusted-networks', '10.0.0.0/8', '--history-size', '1000',
        ]);
        return { name, http: `http://${address}:${HTTP_PORT}`, ws: `ws://${address}:${HTTP_PORT}/ws` };
      });
      const driver = lab.spawn('cl', process.execPath, [DRIVER], { stdio: ['pipe', 'pipe', 'pipe'] });
      let driverErr = '';
      driver.stderr!.on('data', (c: Buffer) => (driverErr += c.toString()));
      const out = lines(driver);
      driver.stdin!.write(`${JSON.stringify({ cmd: 'start', hosts, channel: 'x:1', count: 300, intervalMs: 10, publishVia: ['h2', 'h3'] })}\n`);
      const subscribed = await out.after(0, 'clients subscribed on every host', (l) => l.event === 'subscribed', 40_000).catch((err: Error) => {
        throw new Error(`${err.message}; driver stderr: ${driverErr}`);
      });
      await sleep(500);
      const cutAt = out.all.length;
      lab.cutDirect('h1');
      const [, { line: moved }] = await Promise.all([
        out.after(cutAt, 'h1 not ready', (l) => (l.ready as Record<string, number> | undefined)?.h1 === 503, 10_000),
        out.after(cutAt, 'h1 client moved', (l) => l.event === 'moved' && l.client === 'h1'),
      ]);
      await sleep(500);
      const healedAt = out.all.length;
      lab.healDirect('h1');
      await out.after(healedAt, 'h1 ready again', (l) => (l.ready as Record<string, number> | undefined)?.h1 === 200, 20_000);
      const { line } = await out.after(subscribed.index, 'the report', (l) => l.report !== undefined, 40_000);
      const { report } = line as { report: { published: number; clients: Record<string, Record<string, unknown>>; finalHosts: Record<string, string> } };
      driver.stdin!.write(`${JSON.stringify({ cmd: 'exit' })}\n`);
      console.log(JSON.stringify({ moved, report }));

      assert.equal(report.published, 300);
      for (const [name, c] of Object.entries(report.clients)) {
        assert.equal(c.complete, true, `${name}: every publication, in order (${JSON.stringify(c)})`);
        assert.equal(c.duplicates, 0, name);
      }
      assert.notEqual(report.finalHosts.h1, 'h1', "h1's balanced client moved to another host");
      assert.ok((report.clients.h1!.connections as number) >= 2);
      assert.equal((report.clients.h1!.recovered as boolean[]).at(-1), true, 'it recovered from its position on the new host');
      assert.equal(report.clients.patient!.connections, 1, 'the patient client stayed on h1');
      assert.equal(report.clients.patient!.repairs, 0, 'h1 caught up by itself after healing');
      const readiness = out.all.slice(subscribed.index).filter((l) => l.ready !== undefined).map((l) => l.ready as Record<string, number>);
      assert.ok(readiness.every((r) => r.h2 !== 503 && r.h3 !== 503), 'h2 and h3 stayed ready once up');
    } finally {
      lab.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(namespaces().filter((n) => made.includes(n)), [], 'no namespace left');
  },
);
