import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { NetnsLab } from '../helpers/netns';
import { stillRunningAfter } from '../helpers/process-alive';
import { sleep } from '../helpers/wait';

const unavailable = NetnsLab.unavailableReason();
const skip = unavailable === null ? false : `skipped: ${unavailable}`;
const REDIS_PORT = 6390; // inside the lab's own namespace, not the machine's

/** A client in `from` that sends PING to host:port and waits 1 s for +PONG: exit 0 reached, 2 not. */
const PROBE = `
const s = require('net').connect(Number(process.argv[2]), process.argv[1]);
const fail = () => process.exit(2);
const t = setTimeout(fail, 1000);
s.on('error', fail);
s.on('connect', () => s.write('PING\\r\\n'));
s.on('data', (d) => { clearTimeout(t); process.exit(String(d).startsWith('+PONG') ? 0 : 2); });
`;

async function reaches(lab: NetnsLab, from: string, to: string): Promise<boolean> {
  const { code } = await lab.run(from, process.execPath, ['-e', PROBE, lab.host(to).address, String(REDIS_PORT)], 5000);
  return code === 0;
}

/** Polls `reaches` until it equals `want` (at most `tries` probes, each bounded to 1 s). */
async function until(lab: NetnsLab, from: string, to: string, want: boolean, tries = 20): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if ((await reaches(lab, from, to)) === want) return want;
    await sleep(100);
  }
  return !want;
}

function rootLinks(): string[] {
  return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim()).sort();
}

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.split(' ')[0]!);
}

test('a host namespace reaches redis-server in another; a cut stops it, healing restores it, a throttled link still works; nothing is left behind', { skip, timeout: 90_000 }, async () => {
  const linksBefore = rootLinks();
  const lab = NetnsLab.create(['redis', 'a', 'b']);
  const made = lab.namespaces;
  let redisPid = 0;
  try {
    assert.equal(made.length, 4);
    assert.ok(made.every((n) => namespaces().includes(n)));
    const redis = lab.spawn('redis', 'redis-server', ['--port', String(REDIS_PORT), '--bind', lab.host('redis').address, '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
    redisPid = redis.pid!;
    assert.equal(await until(lab, 'a', 'redis', true), true, 'a reaches redis');
    assert.equal(await reaches(lab, 'b', 'redis'), true, 'b reaches redis');

    lab.cut('a');
    assert.equal(await reaches(lab, 'a', 'redis'), false, 'a is cut off');
    assert.equal(await reaches(lab, 'b', 'redis'), true, 'b is not affected');
    lab.heal('a');
    assert.equal(await until(lab, 'a', 'redis', true), true, 'a reaches redis again');

    // A slow link (tc tbf): small requests still pass.
    lab.throttle('a', 64);
    assert.match(lab.qdisc('a'), /tbf .*rate 64Kbit/);
    assert.equal(await until(lab, 'a', 'redis', true), true, 'a throttled link still carries a PING');
    lab.repair('a');
    assert.doesNotMatch(lab.qdisc('a'), /tbf/);
  } finally {
    lab.destroy();
  }
  assert.equal(await stillRunningAfter(redisPid), false, 'redis-server stopped by PID');
  assert.deepEqual(namespaces().filter((n) => made.includes(n)), [], 'no namespace left');
  assert.deepEqual(rootLinks(), linksBefore, 'no link added to the root namespace');
  assert.deepEqual(lab.namespaces, []);
});

test('tc netem loss and delay on a host cable', { skip, timeout: 60_000 }, async (t) => {
  const lab = NetnsLab.create(['redis', 'a']);
  try {
    const problem = lab.netemProblem();
    if (problem !== null) {
      t.skip(problem);
      assert.throws(() => lab.impair('a', { lossPercent: 100 }), /tc netem is not available/);
      return;
    }
    lab.spawn('redis', 'redis-server', ['--port', String(REDIS_PORT), '--bind', lab.host('redis').address, '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
    assert.equal(await until(lab, 'a', 'redis', true), true, 'a reaches redis');
    lab.impair('a', { lossPercent: 100 });
    assert.equal(await reaches(lab, 'a', 'redis'), false, 'all packets lost');
    lab.repair('a');
    assert.equal(await until(lab, 'a', 'redis', true), true, 'loss removed');
    lab.impair('a', { delayMs: 50, lossPercent: 1 });
    assert.match(lab.qdisc('a'), /netem .*delay 50ms.*loss 1%/);
    assert.equal(await until(lab, 'a', 'redis', true), true, 'a delayed link still carries traffic');
  } finally {
    lab.destroy();
  }
});

for (const ending of ['an uncaught error', 'SIGTERM'] as const) {
  test(`a lab is removed when its process ends by ${ending}`, { skip, timeout: 30_000 }, async () => {
    const helper = join(__dirname, '..', 'helpers', 'netns.js');
    const script = `
      const { NetnsLab } = require(${JSON.stringify(helper)});
      const lab = NetnsLab.create(['x', 'y']);
      const sleeper = lab.spawn('x', 'sleep', ['60']);
      console.log(JSON.stringify({ namespaces: lab.namespaces, pid: sleeper.pid }));
      ${ending === 'SIGTERM' ? 'setInterval(() => {}, 1000);' : "setTimeout(() => { throw new Error('test failure'); }, 100);"}
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    while (!out.includes('\n') && child.exitCode === null) await sleep(20);
    const made = JSON.parse(out.split('\n')[0]!) as { namespaces: string[]; pid: number };
    assert.equal(made.namespaces.length, 3);
    assert.ok(made.namespaces.every((n) => namespaces().includes(n)), 'created');
    const exited = once(child, 'exit');
    if (ending === 'SIGTERM') child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.notEqual(code, 0);
    assert.deepEqual(namespaces().filter((n) => made.namespaces.includes(n)), [], 'namespaces removed');
    assert.equal(await stillRunningAfter(made.pid), false, 'the process started inside was stopped');
  });
}
