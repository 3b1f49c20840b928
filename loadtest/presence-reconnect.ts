/**
 * A mass reconnect on a presence channel: N clients (default 5,000) on process B subscribe
 * `chat:storm` with join/leave events, W watchers (default 50) on process A do too; B is killed
 * with SIGKILL and every client reconnects to A at once. Prints the wall time until all are
 * back, server A's and Redis's CPU time over the storm (kill until the presence list is right
 * again and the watchers saw every leave), the Redis script and SPUBLISH calls, and how many
 * join/leave frames each watcher received for how many entries (coalescing per process per tick).
 * History is off (--history-size 0) so every Redis script call counted is a presence one.
 *
 *   npm run build && node dist/loadtest/presence-reconnect.js [--clients 5000] [--watchers 50] [--ttl 3] [--runs 3] [--baseline]
 *
 * The reconnecting clients are present but only the watchers ask for join/leave events; --mesh
 * makes every client ask for them (each of the N clients then receives all 2N events).
 * --baseline runs the same storm on a channel without presence (plain subscribes) for comparison.
 */
import Redis from 'ioredis';
import { pack, unpack } from 'msgpackr';
import WebSocket from 'ws';
import { ServerProcess } from '../harness/broadcaster.js';
import { TestRedis } from '../harness/redis.js';
import { num, parseFlags } from './cli-args.js';
import { cpuTimeUs } from './compare/proc-stats.js';

const USAGE = 'usage: node dist/loadtest/presence-reconnect.js [--clients N] [--watchers N] [--ttl seconds] [--runs N] [--baseline] [--mesh]';
let CHANNEL = 'chat:storm';
/** --baseline: the same storm on a channel without presence (plain subscribe), for the ratio. */
let BASELINE = false;
/** --mesh: the reconnecting clients ask for join/leave events too (every client receives every event). */
let MESH = false;

/** One raw client: subscribes with flag 1 (join/leave), counts presence frames, reconnects at once to `next` when closed. */
class StormClient {
  ws: WebSocket | null = null;
  subscribed = false;
  frames = 0;
  connections = 0;
  joins = 0;
  leaves = 0;
  private id = 0;

  constructor(
    private url: string,
    private readonly next: string | null,
    private readonly listen: boolean,
  ) {}

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.subscribed = false;
      const ws = new WebSocket(this.url, 'broadcaster');
      this.ws = ws;
      ws.binaryType = 'nodebuffer';
      ws.on('open', () => ws.send(pack(BASELINE || !this.listen ? [1, ++this.id, CHANNEL] : [1, ++this.id, CHANNEL, 1])));
      ws.on('message', (data: Buffer) => {
        const frame = unpack(data) as unknown[];
        if (frame[0] === 1 && !this.subscribed) {
          this.subscribed = true;
          this.connections++;
          resolve();
        } else if (frame[0] === 5) {
          this.frames++;
          this.joins += (frame[2] as unknown[]).length;
          this.leaves += (frame[3] as unknown[]).length;
        } else if (frame[0] === 2) reject(new Error(`error reply ${JSON.stringify(frame)}`));
      });
      ws.on('error', () => {});
      ws.on('close', () => {
        if (this.ws !== ws || this.next === null || stopping) return;
        this.url = this.next;
        this.connect().catch(() => {});
      });
    });
  }

  close(): void {
    this.ws?.terminate();
  }
}

let stopping = false;

async function counts(server: ServerProcess): Promise<{ clients: number; users: number }> {
  return (await (await fetch(`${server.http}/v1/channels/${CHANNEL}/presence/counts`)).json()) as { clients: number; users: number };
}

async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const calls: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) calls[m[1]!] = Number(m[2]);
  return calls;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function run(clients: number, watchers: number, ttl: number): Promise<Record<string, number>> {
  stopping = false;
  const redis = await TestRedis.start();
  const args = [
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--redis-url',
    redis.url,
    '--presence-namespaces',
    'chat:',
    '--presence-ttl',
    String(ttl),
    '--history-size',
    '0',
    '--log-level',
    process.env.STORM_LOG ?? 'info',
  ];
  const a = await ServerProcess.start(args);
  const b = await ServerProcess.start(args);
  const stats = new Redis(redis.url);
  const all: StormClient[] = [];
  try {
    const watching = Array.from({ length: watchers }, () => new StormClient(a.wsUrl(), null, true));
    for (const w of watching) await w.connect();
    const movers = Array.from({ length: clients }, () => new StormClient(b.wsUrl(), a.wsUrl(), MESH));
    all.push(...watching, ...movers);
    for (let i = 0; i < movers.length; i += 250) await Promise.all(movers.slice(i, i + 250).map((c) => c.connect()));
    if (!BASELINE) await until('every client on the list', async () => (await counts(a)).clients === clients + watchers, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const w of watching) w.frames = w.joins = w.leaves = 0;

    const before = { a: cpuTimeUs(a.pid), redis: cpuTimeUs(redis.pid), cmds: await commandStats(stats) };
    const killedAt = Date.now();
    b.signal('SIGKILL');
    await until('every client reconnected', () => movers.every((c) => c.connections === 2), 60_000);
    const reconnectMs = Date.now() - killedAt;
    const reconnectCpu = { a: cpuTimeUs(a.pid) - before.a, redis: cpuTimeUs(redis.pid) - before.redis };
    let seen = { clients: clients + watchers, users: 0 };
    await until('the presence list to be right', async () => BASELINE || (seen = await counts(a)).clients === clients + watchers, ttl * 4000).catch(
      (err: Error) => {
        throw new Error(
          `${err.message}: ${seen.clients} clients listed; server A warnings: ${JSON.stringify(a.logs.filter((l) => Number(l.level) >= 40).slice(0, 3))}`,
        );
      },
    );
    await until('the watchers to see every leave and join', () => BASELINE || watching.every((w) => w.leaves >= clients && w.joins >= clients), ttl * 4000);
    const settledMs = Date.now() - killedAt;
    const after = { a: cpuTimeUs(a.pid), redis: cpuTimeUs(redis.pid), cmds: await commandStats(stats) };
    const w0 = watching[0]!;
    return {
      reconnectMs,
      settledMs,
      cpuAReconnectMs: reconnectCpu.a / 1000,
      cpuRedisReconnectMs: reconnectCpu.redis / 1000,
      cpuAMs: (after.a - before.a) / 1000,
      cpuRedisMs: (after.redis - before.redis) / 1000,
      scriptCalls: (after.cmds.evalsha ?? 0) + (after.cmds.eval ?? 0) - (before.cmds.evalsha ?? 0) - (before.cmds.eval ?? 0),
      spublishCalls: (after.cmds.spublish ?? 0) - (before.cmds.spublish ?? 0),
      watcherFrames: w0.frames,
      watcherJoins: w0.joins,
      watcherLeaves: w0.leaves,
      lateHeartbeats: a.logs.filter((l) => String(l.msg).includes('heartbeat came after its ttl')).length,
    };
  } finally {
    stopping = true;
    for (const c of all) c.close();
    stats.disconnect();
    await a.stop();
    await b.stop().catch(() => {});
    await redis.kill();
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['clients', 'watchers', 'ttl', 'runs'], ['baseline', 'mesh'], USAGE);
  BASELINE = flags.baseline === true;
  MESH = flags.mesh === true;
  if (BASELINE) CHANNEL = 'news:storm';
  const clients = num(flags, 'clients', 5000, 1, 15_000);
  const watchers = num(flags, 'watchers', 50, 1, 1000);
  const ttl = num(flags, 'ttl', 3, 1, 60);
  const runs = num(flags, 'runs', 3, 1, 10);
  console.log(
    `presence mass reconnect: ${clients} clients on B + ${watchers} watchers on A, channel ${CHANNEL}, --presence-ttl ${ttl}; B killed (SIGKILL), all reconnect to A at once`,
  );
  console.log(
    BASELINE ? 'baseline: no presence' : MESH ? 'mesh: every client receives join/leave events' : `only the ${watchers} watchers receive join/leave events`,
  );
  console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
  const results: Record<string, number>[] = [];
  for (let i = 0; i < runs; i++) {
    try {
      const r = await run(clients, watchers, ttl);
      results.push(r);
      console.log(`run ${i + 1}: ${JSON.stringify(r)}`);
    } catch (err) {
      console.log(`run ${i + 1} failed: ${(err as Error).message}`);
    }
  }
  if (results.length === 0) throw new Error('every run failed');
  const keys = Object.keys(results[0]!);
  console.log('\nmedian (min-max) over runs:');
  for (const key of keys) {
    const values = results.map((r) => r[key]!).sort((x, y) => x - y);
    const median = values[Math.floor(values.length / 2)]!;
    console.log(`  ${key.padEnd(22)} ${median.toFixed(1)} (${values[0]!.toFixed(1)}-${values.at(-1)!.toFixed(1)})`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
