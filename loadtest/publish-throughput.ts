/**
 * HTTP publish throughput, side by side in one run: for each server (memory broker, Redis with
 * history; optionally an older build given by --before-dist), autocannon sends single publishes
 * (POST /v1/channels/{channel}/publish) and batches (POST /v1/publish, --batch items per request,
 * msgpack body), one after another, repeated and interleaved; each measurement follows --warmup
 * seconds of the same load on the same server (a fresh process compiles its code meanwhile).
 * Prints requests/s, publications/s and server and Redis CPU µs per publication (from /proc), as
 * medians with min-max, and ratios, and how busy the server, Redis and autocannon (this process)
 * kept one core each: which ran out.
 * Nobody subscribes: this measures the publish path up to the broker. With --keys, the same
 * requests again with an idempotency key on every publication (a fresh one each: every one is
 * published), to set the cost of keys beside publications without.
 *
 *   node dist/loadtest/publish-throughput.js --connections 16 --duration 5 --repeat 3 --batch 100 \
 *     [--keys] [--before-dist /path/to/older/dist]
 */
import * as path from 'node:path';
import autocannon from 'autocannon';
import { pack } from 'msgpackr';
import { freePort } from '../harness/ports.js';
import { startProcess, stopProcess } from '../harness/processes.js';
import { startRedis, type TestRedis } from '../harness/redis.js';
import { bool, num, parseFlags, str } from './cli-args.js';
import { cpuTimeUs } from './compare/proc-stats.js';
import { makePayload, stampPayload } from './protocol/payload.js';

const USAGE = `usage: publish-throughput [options]
  --connections N   autocannon connections (default 16)
  --duration S      seconds per measurement (default 5)
  --warmup S        seconds of the same load before each measurement, not counted (default 2)
  --repeat N        rounds, interleaved (default 3)
  --batch N         publications per batch request (default 100; 0: no batch runs)
  --size N          publication bytes (default 64)
  --keys            also measure publications with an idempotency key (a fresh one each)
  --before-dist DIR also measure the server of an older build (DIR/src/cli/main.js)`;

/** A request kind: single or batch, with or without an idempotency key on every publication. */
type Mode = 'single' | 'batch' | 'single+key' | 'batch+key';

interface Row {
  server: string;
  mode: Mode;
  reqPerSec: number[];
  pubPerSec: number[];
  serverUs: number[];
  redisUs: number[];
  /** Share of one core each process was busy while measured (%): server, Redis, this process (autocannon). */
  serverBusy: number[];
  redisBusy: number[];
  loadBusy: number[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fmt = (xs: number[], digits = 0): string => {
  const f = (n: number): string => n.toFixed(digits);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return xs.length > 1 && lo !== hi ? `${f(median(xs))} (${f(lo)}-${f(hi)})` : f(median(xs));
};

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), ['connections', 'duration', 'warmup', 'repeat', 'batch', 'size', 'before-dist'], ['keys'], USAGE);
  const connections = num(f, 'connections', 16, 1, 1000);
  const duration = num(f, 'duration', 5, 1, 120);
  const warmup = num(f, 'warmup', 2, 0, 60);
  const repeat = num(f, 'repeat', 3, 1, 20);
  const batchSize = num(f, 'batch', 100, 0, 10_000);
  const size = num(f, 'size', 64, 1, 65536);
  const before = str(f, 'before-dist', '');
  const payload = stampPayload(makePayload(Math.max(16, size)), 0, 0);
  const batchBody = pack({ publications: Array.from({ length: batchSize }, () => ({ channel: 'lt.0', data: payload })) });
  // Fresh idempotency keys: every keyed publication is a first one (the cost of a key, not of a repeat).
  const run = Date.now().toString(36);
  let nextKey = 0;
  const keyedBatch = (): Buffer =>
    pack({ publications: Array.from({ length: batchSize }, () => ({ channel: 'lt.0', data: payload, idempotency_key: `${run}-${nextKey++}` })) });
  const current = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');
  const servers: Array<{ name: string; main: string; redis: boolean }> = [
    { name: 'memory', main: current, redis: false },
    { name: 'redis+history', main: current, redis: true },
  ];
  if (before !== '') {
    servers.push({ name: 'memory (before)', main: path.join(before, 'src', 'cli', 'main.js'), redis: false });
    servers.push({ name: 'redis+history (before)', main: path.join(before, 'src', 'cli', 'main.js'), redis: true });
  }
  const modes: Mode[] = batchSize > 0 ? ['single', 'batch'] : ['single'];
  if (bool(f, 'keys')) modes.push(...modes.map((m) => `${m}+key` as Mode));
  const rows: Row[] = [];
  // The before build knows no idempotency keys: its rows are the runs without.
  for (const s of servers)
    for (const mode of modes)
      if (!(mode.endsWith('+key') && s.name.endsWith('(before)')))
        rows.push({ server: s.name, mode, reqPerSec: [], pubPerSec: [], serverUs: [], redisUs: [], serverBusy: [], redisBusy: [], loadBusy: [] });
  for (let round = 0; round < repeat; round++) {
    for (const s of servers) {
      let redis: TestRedis | undefined;
      const port = await freePort();
      if (s.redis) redis = await startRedis();
      const args = [s.main, '--port', String(port), '--host', '127.0.0.1', '--workers', '1', '--admin-port', '0', '--log-level', 'info'];
      if (redis !== undefined) args.push('--redis-url', redis.url);
      const server = await startProcess({ cmd: process.execPath, args }, { keepLogs: false });
      try {
        for (const mode of modes) {
          const row = rows.find((r) => r.server === s.name && r.mode === mode);
          if (row === undefined) continue;
          const single = mode.startsWith('single');
          const keyed = mode.endsWith('+key');
          const load = (seconds: number): ReturnType<typeof autocannon> =>
            autocannon({
              url: single ? `http://127.0.0.1:${port}/v1/channels/lt.0/publish` : `http://127.0.0.1:${port}/v1/publish`,
              method: 'POST',
              headers: { 'content-type': single ? 'application/octet-stream' : 'application/msgpack' },
              body: single ? payload : batchBody,
              connections,
              duration: seconds,
              ...(keyed && {
                requests: [
                  {
                    setupRequest: (req) =>
                      single ? { ...req, headers: { ...req.headers, 'idempotency-key': `${run}-${nextKey++}` } } : { ...req, body: keyedBatch() },
                  },
                ],
              }),
            });
          // Unmeasured: the server's code is compiled before the clock starts.
          if (warmup > 0) await load(warmup);
          const cpu0 = cpuTimeUs(server.pid);
          const r0 = redis === undefined ? 0 : cpuTimeUs(redis.pid);
          const wall0 = performance.now();
          const load0 = process.cpuUsage();
          const result = await load(duration);
          const wallUs = (performance.now() - wall0) * 1000;
          const loadUsage = process.cpuUsage(load0);
          const cpu = cpuTimeUs(server.pid) - cpu0;
          const redisCpu = redis === undefined ? 0 : cpuTimeUs(redis.pid) - r0;
          // Which resource ran out: a process near 100% of a core, or all of them near the machine's cores.
          const busy = [cpu, redisCpu, loadUsage.user + loadUsage.system].map((us) => (100 * us) / wallUs) as [number, number, number];
          row.serverBusy.push(busy[0]);
          row.redisBusy.push(busy[1]);
          row.loadBusy.push(busy[2]);
          const ok = result.requests.total - result.non2xx;
          const pubs = ok * (single ? 1 : batchSize);
          row.reqPerSec.push(ok / duration);
          row.pubPerSec.push(pubs / duration);
          row.serverUs.push(pubs > 0 ? cpu / pubs : 0);
          row.redisUs.push(pubs > 0 ? redisCpu / pubs : 0);
          process.stdout.write(
            `round ${round + 1} ${s.name} ${mode}: ${Math.round(ok / duration)} req/s, ${Math.round(pubs / duration)} pub/s, ` +
              `server ${(cpu / Math.max(1, pubs)).toFixed(2)} µs/pub, redis ${(redisCpu / Math.max(1, pubs)).toFixed(2)} µs/pub, ` +
              `busy % server/redis/autocannon ${busy.map((b) => b.toFixed(0)).join('/')}, non-2xx ${result.non2xx}, errors ${result.errors}\n`,
          );
        }
      } finally {
        await stopProcess(server.child);
        await redis?.stop();
      }
    }
  }
  const memorySingle = rows.find((r) => r.server === 'memory' && r.mode === 'single');
  process.stdout.write(
    `\n| server | request | req/s | publications/s | × memory single | × its single | server CPU µs/pub | Redis CPU µs/pub | busy % of a core: server / Redis / autocannon |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n`,
  );
  for (const r of rows) {
    const ratio = memorySingle === undefined ? 0 : median(r.pubPerSec) / median(memorySingle.pubPerSec);
    const single = rows.find((x) => x.server === r.server && x.mode === 'single');
    const own = single === undefined ? 0 : median(r.pubPerSec) / median(single.pubPerSec);
    process.stdout.write(
      `| ${r.server} | ${r.mode.startsWith('single') ? 'single' : `batch of ${batchSize}`}${r.mode.endsWith('+key') ? ', a key each' : ''} | ${fmt(r.reqPerSec)} | ${fmt(r.pubPerSec)} | ${ratio.toFixed(2)} | ${own.toFixed(2)} | ${fmt(r.serverUs, 2)} | ${fmt(r.redisUs, 2)} | ${median(r.serverBusy).toFixed(0)} / ${median(r.redisBusy).toFixed(0)} / ${median(r.loadBusy).toFixed(0)} |\n`,
    );
  }
}

void main();
