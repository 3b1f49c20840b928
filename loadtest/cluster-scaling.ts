/**
 * Scale-out figures on this machine, in one run so they compare as ratios:
 *  1. publications/s through one Redis vs a 3-master Redis Cluster at the same publisher load
 *     (the Node Publisher with history, N publications in flight over many channels), with each
 *     Redis process's CPU time per publication;
 *  2. delivered messages/s with 1, 2 and 3 broadcaster processes ("hosts") on the cluster, each
 *     with the same number of subscribers, publications over HTTP to the first one (so most
 *     deliveries cross processes through the cluster), with server CPU per delivery, and for a
 *     run that lost messages who lost them (loadtest/loss: the generator's per-subscriber view
 *     and recount, the servers' admin counters, the kernel's socket queues, Redis).
 *
 *   npm run build && node dist/loadtest/cluster-scaling.js [--seconds 5] [--concurrency 64]
 *     [--channels 1000] [--subscribers 2000] [--rate 200] [--runs 3] [--drain 10] [--recount 15]
 *     [--hosts 1,2,3] [--only publish|delivery] [--pub-rate 0]
 *
 * `--pub-rate R` paces part 1 at R publications/s (0: as fast as the publisher goes), so one
 * Redis and the cluster's masters are compared at the same load: each one's share of a core.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { Publisher } from '../src/publisher/publisher';
import { ServerProcess } from '../harness/broadcaster';
import { TestRedis } from '../harness/redis';
import { TestRedisCluster } from '../test/helpers/redis-cluster';
import { num, parseFlags } from './cli-args';
import { cpuTimeUs } from './compare/proc-stats';
import { runLoad } from './generator/coordinator';
import { describeGeneratorLoss } from './generator/result';
import { autoSourceAddresses, DEFAULT_PER_ADDRESS } from './generator/source-address';
import type { LossAttribution } from './loss/attribute-loss';
import { describeEvidence, LossProbe } from './loss/loss-probe';
import { readRedisView, sumRedisViews, type RedisView } from './loss/redis-view';
import { freePort } from '../harness/ports';
import { summarizeCauses } from './compare/loss-report';

const USAGE =
  'usage: cluster-scaling [--seconds 5] [--concurrency 64] [--channels 1000] [--subscribers 2000] [--rate 200] [--runs 3] [--drain 10] [--recount 15] [--hosts 1,2,3] [--only publish|delivery] [--pub-rate 0]';
const flags = parseFlags(
  process.argv.slice(2),
  ['seconds', 'concurrency', 'channels', 'subscribers', 'rate', 'runs', 'drain', 'recount', 'hosts', 'only', 'pub-rate'],
  [],
  USAGE,
);
const seconds = num(flags, 'seconds', 5, 1, 120);
const concurrency = num(flags, 'concurrency', 64, 1, 10_000);
const channelCount = num(flags, 'channels', 1000, 1, 1_000_000);
const subscribers = num(flags, 'subscribers', 2000, 1, 15_000);
const rate = num(flags, 'rate', 200, 1, 100_000);
const runs = num(flags, 'runs', 3, 1, 20);
/** part 1's publications/s (0: as fast as the publisher goes) */
const pubRate = num(flags, 'pub-rate', 0, 0, 1_000_000);
/** seconds the generator waits for deliveries after the last publish */
const drainSeconds = num(flags, 'drain', 10, 1, 300);
/** a run that lost messages waits up to this many more seconds and counts again (0: no recount) */
const recountSeconds = num(flags, 'recount', 15, 0, 300);
/** one part only: `publish` (publications/s) or `delivery` (delivered msgs/s); default both */
const only = String(flags.only ?? 'both');
/** broadcaster process counts of the delivery runs */
const hostCounts = String(flags.hosts ?? '1,2,3')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n >= 1 && n <= 8);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[], digits = 0): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

/** Publishes for `seconds` with `concurrency` in flight; returns publications and each pid's CPU µs. */
async function publishLoad(publisher: Publisher, pids: number[]): Promise<{ published: number; cpuUs: number[]; ownCpuUs: number }> {
  const channels = Array.from({ length: channelCount }, (_, i) => `load:${i}`);
  const payload = Buffer.alloc(64, 7);
  const cpu0 = pids.map(cpuTimeUs);
  const own0 = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  let published = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        // paced: publication i is due at start + i / pubRate
        const due = pubRate > 0 ? start + (i * 1000) / pubRate : start;
        if (due >= end || performance.now() >= end) break;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        await publisher.publish(channels[i % channels.length]!, payload);
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

/** One delivery run's figures. */
interface DeliveryFigures {
  /** delivered msgs/s */
  delivered: number;
  /** every message delivered exactly once, in order */
  ok: boolean;
  /** messages counted lost */
  lost: number;
  /** who lost them */
  loss: LossAttribution;
  /** the generator's and the servers' figures in words (lossy runs) */
  detail: string;
  /** server CPU µs per delivery */
  serverCpuUsPerDelivery: number;
}

/** Runs the fan-out generator against `servers` and attributes any loss; see DeliveryFigures. */
async function deliveryRun(servers: ServerProcess[], adminPorts: number[], cluster: TestRedisCluster): Promise<DeliveryFigures> {
  const ports = servers.map((s) => s.port);
  const cpu0 = servers.map((s) => cpuTimeUs(s.pid));
  const probe = new LossProbe({
    adminPorts,
    serverPorts: ports,
    redis: () => sumRedisViews(cluster.runningPorts.map((port) => readRedisView(port)).filter((v): v is RedisView => v !== null)),
  });
  await probe.atStart(); // the servers serve every run: their counters count from here
  const result = await runLoad(
    {
      label: `cluster-scaling x${servers.length}`,
      host: '127.0.0.1',
      port: ports[0]!,
      ports,
      path: '/ws',
      client: 'raw',
      subscribers: subscribers * servers.length,
      channels: ['lt.0'],
      workers: 1,
      sourceAddresses: autoSourceAddresses(subscribers * servers.length),
      perAddress: DEFAULT_PER_ADDRESS,
      connectConcurrency: 256,
      handshakeTimeoutMs: 15_000,
      connectPhaseMs: 120_000,
      settleMs: 1000,
      drainMs: drainSeconds * 1000,
      recountMs: recountSeconds * 1000,
      quiet: true,
      publisher: {
        via: 'http',
        target: servers[0]!.http,
        redisPrefix: 'bc:',
        rate,
        size: 64,
        durationMs: seconds * 1000,
        maxMessages: Math.ceil(rate * seconds) + 10,
        publisherId: 0,
        lanes: 4,
        httpInFlight: 0,
        maxInFlight: 10_000,
      },
    },
    { onDrained: () => probe.atDrained(), onCounted: () => probe.atCounted() },
  );
  const serverCpu = servers.reduce((sum, s, i) => sum + cpuTimeUs(s.pid) - cpu0[i]!, 0);
  const { loss, evidence } = probe.attribute(result);
  if (!result.ok) console.error(`generator with ${servers.length} processes: ${result.problems.join('; ')}`);
  const detail = `generator: ${result.delivery.lost > 0 ? describeGeneratorLoss(result.loss) : 'no loss'}; ${describeEvidence(evidence)}`;
  return {
    delivered: result.rates.delivered,
    ok: result.ok,
    lost: result.delivery.lost,
    loss,
    detail,
    serverCpuUsPerDelivery: serverCpu / Math.max(1, result.delivery.received),
  };
}

/** Load averages, 1/5/15 min. */
function loadText(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** "0" when no run lost anything, else the lost counts and who lost them over the runs. */
function lostCell(results: readonly DeliveryFigures[]): string {
  const lost = results.map((r) => r.lost);
  if (lost.every((n) => n === 0)) return '0';
  return `${lost.join(' / ')}: ${summarizeCauses(results.map((r) => ({ loss: r.loss })))}`;
}

/** Part 1: publications/s through one Redis and through the cluster, with each Redis process's CPU per publication. */
async function publicationRuns(redis: TestRedis, cluster: TestRedisCluster): Promise<void> {
  const clusterNodes = cluster.startupNodes.map((n) => `${n.host}:${n.port}`);
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
  const offered = pubRate > 0 ? `paced at ${pubRate} publications/s` : 'as fast as the publisher goes';
  console.log(
    `## 1. publications/s, Node Publisher with history (100), ${concurrency} in flight over ${channelCount} channels, 64-byte data, ${offered}, ${seconds} s × ${runs} runs (median, min-max)\n`,
  );
  console.log(
    "| target | publications/s | Redis CPU µs per publication, all masters | each master's share | busiest Redis process, % of a core | publisher (Node) CPU µs per publication | ratio |",
  );
  console.log('|---|---|---|---|---|---|---|');
  // a process's share of one core over the run: its CPU µs per publication × publications/s
  const core = (usPerPub: number[], rates: number[]): number[] => usPerPub.map((us, i) => (us * rates[i]!) / 10_000);
  console.log(`| 1 Redis | ${spread(single)} | ${spread(singleCpu, 1)} | - | ${spread(core(singleCpu, single), 0)} | ${spread(ownSingle, 1)} | 1.00 |`);
  const perShard = masters
    .map((_, i) =>
      spread(
        shardCpu.map((r) => r[i]!),
        1,
      ),
    )
    .join(' / ');
  const total = shardCpu.map((r) => r.reduce((a, b) => a + b, 0));
  const busiest = core(
    shardCpu.map((r) => Math.max(...r)),
    sharded,
  );
  console.log(
    `| 3-master cluster (each with a replica) | ${spread(sharded)} | ${spread(total, 1)} | ${perShard} | ${spread(busiest, 0)} | ${spread(ownSharded, 1)} | ${(median(sharded) / median(single)).toFixed(2)} |\n`,
  );
}

/** Part 2: delivered msgs/s with 1, 2, 3 broadcaster processes on the cluster, and who lost what. */
async function deliveryRuns(cluster: TestRedisCluster): Promise<void> {
  const clusterNodes = cluster.startupNodes.map((n) => `${n.host}:${n.port}`);
  console.log(
    `## 2. delivered msgs/s, ${subscribers} subscribers per broadcaster process on one channel, ${rate} publications/s over HTTP to the first, ${seconds} s × ${runs} runs\n`,
  );
  console.log('| processes | delivered msgs/s | lost: who lost them | server CPU µs per delivery | ratio |');
  console.log('|---|---|---|---|---|');
  let base = 0;
  const details: string[] = [];
  for (const hosts of hostCounts) {
    // One at a time: on a busy 2-core machine three cold starts at once can take over 10 s.
    const servers: ServerProcess[] = [];
    const adminPorts: number[] = [];
    try {
      for (let i = 0; i < hosts; i++) {
        // the admin listener serves the loss counters (slow-consumer closes and drops, gaps, broker reconnects)
        adminPorts.push(await freePort());
        servers.push(
          await ServerProcess.start([
            '--port',
            '0',
            '--host',
            '127.0.0.1',
            '--admin-port',
            String(adminPorts[i]),
            '--redis-cluster-nodes',
            clusterNodes.join(','),
            '--max-connections',
            '16000',
            '--history-size',
            '0',
          ]),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const results: DeliveryFigures[] = [];
      for (let run = 0; run < runs; run++) {
        const r = await deliveryRun(servers, adminPorts, cluster);
        results.push(r);
        if (r.lost > 0) details.push(`- ${hosts} processes, run ${run + 1} (load ${loadText()}): lost ${r.lost}: **${r.loss.verdict}**. ${r.detail}`);
      }
      const delivered = results.map((r) => r.delivered);
      if (base === 0) base = median(delivered);
      console.log(
        `| ${hosts} | ${spread(delivered)} | ${lostCell(results)} | ${spread(
          results.map((r) => r.serverCpuUsPerDelivery),
          2,
        )} | ${(median(delivered) / base).toFixed(2)} |`,
      );
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }
  if (details.length > 0) console.log(`\nLossy runs, who lost what:\n${details.join('\n')}`);
}

async function main(): Promise<void> {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadText()}, Node ${process.version}, ${execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ').slice(0, 3).join(' ')}`;
  console.log(`# cluster scaling — ${new Date().toISOString()}\n${machine}\n`);
  const [redis, cluster] = await Promise.all([TestRedis.start(), TestRedisCluster.start()]);
  try {
    if (only !== 'delivery') await publicationRuns(redis, cluster);
    if (only !== 'publish') await deliveryRuns(cluster);
    console.log(`\nload average after: ${loadText()}`);
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
