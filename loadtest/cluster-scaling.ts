/**
 * Scale-out figures on this machine, in one run so they compare as ratios:
 *  1. publications/s through one Redis vs a 3-master Redis Cluster at the same publisher load
 *     (the Node Publisher with history, N publications in flight over many channels), with each
 *     Redis process's CPU time per publication;
 *  2. delivered messages/s with 1, 2 and 3 broadcaster processes ("hosts") on the cluster, each
 *     with the same number of subscribers, publications over HTTP to the first one (so most
 *     deliveries cross processes through the cluster), with server CPU per delivery.
 *
 *   npm run build && node dist/loadtest/cluster-scaling.js [--seconds 5] [--concurrency 64]
 *     [--channels 1000] [--subscribers 2000] [--rate 200] [--runs 3]
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Publisher } from '../src/publisher/publisher';
import { ServerProcess } from '../harness/broadcaster';
import { TestRedis } from '../harness/redis';
import { TestRedisCluster } from '../test/helpers/redis-cluster';
import { num, parseFlags } from './cli-args';
import { cpuTimeUs } from './compare/proc-stats';

const USAGE = 'usage: cluster-scaling [--seconds 5] [--concurrency 64] [--channels 1000] [--subscribers 2000] [--rate 200] [--runs 3]';
const flags = parseFlags(process.argv.slice(2), ['seconds', 'concurrency', 'channels', 'subscribers', 'rate', 'runs'], [], USAGE);
const seconds = num(flags, 'seconds', 5, 1, 120);
const concurrency = num(flags, 'concurrency', 64, 1, 10_000);
const channelCount = num(flags, 'channels', 1000, 1, 1_000_000);
const subscribers = num(flags, 'subscribers', 2000, 1, 15_000);
const rate = num(flags, 'rate', 200, 1, 100_000);
const runs = num(flags, 'runs', 3, 1, 20);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[], digits = 0): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

/** Publishes for `seconds` with `concurrency` in flight; returns publications and each pid's CPU µs. */
async function publishLoad(publisher: Publisher, pids: number[]): Promise<{ published: number; cpuUs: number[]; ownCpuUs: number }> {
  const channels = Array.from({ length: channelCount }, (_, i) => `load:${i}`);
  const payload = Buffer.alloc(64, 7);
  const cpu0 = pids.map(cpuTimeUs);
  const own0 = process.cpuUsage();
  const end = Date.now() + seconds * 1000;
  let published = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await publisher.publish(channels[next++ % channels.length]!, payload);
        published++;
      }
    }),
  );
  const own = process.cpuUsage(own0);
  return { published, cpuUs: pids.map((pid, i) => cpuTimeUs(pid) - cpu0[i]!), ownCpuUs: own.user + own.system };
}

async function masterPids(cluster: TestRedisCluster): Promise<Array<{ port: number; pid: number }>> {
  const masters = (await cluster.shards()).filter((s) => s.ranges.length > 0).map((s) => s.master.port);
  return cluster.nodeInfo.filter((n) => masters.includes(n.port)).map((n) => ({ port: n.port, pid: n.pid! }));
}

/** Runs the fan-out generator against `ports`; resolves with delivered/s and server CPU µs per delivery. */
async function deliveryRun(servers: ServerProcess[]): Promise<{ delivered: number; ok: boolean; serverCpuUsPerDelivery: number }> {
  const ports = servers.map((s) => Number(new URL(s.http).port));
  const out = join('/tmp', `cluster-scaling-${process.pid}-${Date.now()}.json`);
  const cpu0 = servers.map((s) => cpuTimeUs(s.pid));
  const args = [
    join(__dirname, 'generator', 'main.js'),
    '--url',
    `ws://127.0.0.1:${ports[0]}/ws`,
    '--ports',
    ports.join(','),
    '--subscribers',
    String(subscribers * servers.length),
    '--channels',
    '1',
    '--rate',
    String(rate),
    '--duration',
    String(seconds),
    '--via',
    'http',
    '--quiet',
    '--out',
    out,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  await new Promise((resolve) => child.once('exit', resolve));
  const result = JSON.parse(readFileSync(out, 'utf8')) as { rates: { delivered: number }; timings: { deliveryMs: number }; ok: boolean; problems: string[] };
  rmSync(out, { force: true });
  const serverCpu = servers.reduce((sum, s, i) => sum + cpuTimeUs(s.pid) - cpu0[i]!, 0);
  const deliveredCount = (result.rates.delivered * result.timings.deliveryMs) / 1000;
  if (!result.ok) console.error(`generator with ${servers.length} processes: ${result.problems.join('; ')}`);
  return { delivered: result.rates.delivered, ok: result.ok, serverCpuUsPerDelivery: serverCpu / Math.max(1, deliveredCount) };
}

async function main(): Promise<void> {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, Node ${process.version}, ${execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ').slice(0, 3).join(' ')}`;
  console.log(`# cluster scaling — ${new Date().toISOString()}\n${machine}\n`);
  const [redis, cluster] = await Promise.all([TestRedis.start(), TestRedisCluster.start()]);
  const clusterNodes = cluster.startupNodes.map((n) => `${n.host}:${n.port}`);
  try {
    // 1. publications/s
    const single: number[] = [];
    const sharded: number[] = [];
    const singleCpu: number[] = [];
    const shardCpu: number[][] = [];
    const ownSingle: number[] = [];
    const ownSharded: number[] = [];
    const masters = await masterPids(cluster);
    for (let run = 0; run < runs; run++) {
      const p1 = new Publisher({ redisUrl: redis.url, prefix: `s${run}:` });
      const a = await publishLoad(p1, [redis.pid]);
      await p1.close();
      single.push(a.published / seconds);
      singleCpu.push(a.cpuUs[0]! / a.published);
      ownSingle.push(a.ownCpuUs / a.published);
      const p3 = new Publisher({ redisClusterNodes: clusterNodes, prefix: `s${run}:` });
      await p3.publish('warm:0', 'x');
      const b = await publishLoad(
        p3,
        masters.map((m) => m.pid),
      );
      await p3.close();
      sharded.push(b.published / seconds);
      shardCpu.push(b.cpuUs.map((us) => us / b.published));
      ownSharded.push(b.ownCpuUs / b.published);
    }
    console.log(
      `## 1. publications/s, Node Publisher with history (100), ${concurrency} in flight over ${channelCount} channels, 64-byte data, ${seconds} s × ${runs} runs (median, min-max)\n`,
    );
    console.log(
      "| target | publications/s | Redis CPU µs per publication, all masters | each master's share | publisher (Node) CPU µs per publication | ratio |",
    );
    console.log('|---|---|---|---|---|---|');
    console.log(`| 1 Redis | ${spread(single)} | ${spread(singleCpu, 1)} | - | ${spread(ownSingle, 1)} | 1.00 |`);
    const perShard = masters
      .map((_, i) =>
        spread(
          shardCpu.map((r) => r[i]!),
          1,
        ),
      )
      .join(' / ');
    const total = shardCpu.map((r) => r.reduce((a, b) => a + b, 0));
    console.log(
      `| 3-master cluster (each with a replica) | ${spread(sharded)} | ${spread(total, 1)} | ${perShard} | ${spread(ownSharded, 1)} | ${(median(sharded) / median(single)).toFixed(2)} |\n`,
    );

    // 2. delivered msgs/s with 1, 2, 3 hosts
    console.log(
      `## 2. delivered msgs/s, ${subscribers} subscribers per broadcaster process on one channel, ${rate} publications/s over HTTP to the first, ${seconds} s × ${runs} runs\n`,
    );
    console.log('| processes | delivered msgs/s | every message delivered | server CPU µs per delivery | ratio |');
    console.log('|---|---|---|---|---|');
    let base = 0;
    for (let hosts = 1; hosts <= 3; hosts++) {
      // One at a time: on a busy 2-core machine three cold starts at once can take over 10 s.
      const servers: ServerProcess[] = [];
      for (let i = 0; i < hosts; i++) {
        servers.push(
          await ServerProcess.start([
            '--port',
            '0',
            '--host',
            '127.0.0.1',
            '--redis-cluster-nodes',
            clusterNodes.join(','),
            '--max-connections',
            '16000',
            '--history-size',
            '0',
          ]),
        );
      }
      try {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const results = [];
        for (let run = 0; run < runs; run++) results.push(await deliveryRun(servers));
        const delivered = results.map((r) => r.delivered);
        if (hosts === 1) base = median(delivered);
        console.log(
          `| ${hosts} | ${spread(delivered)} | ${results.every((r) => r.ok) ? 'yes' : 'no'} | ${spread(
            results.map((r) => r.serverCpuUsPerDelivery),
            2,
          )} | ${(median(delivered) / base).toFixed(2)} |`,
        );
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
    console.log(
      `\nload average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await Promise.all([redis.kill(), cluster.stop()]);
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
