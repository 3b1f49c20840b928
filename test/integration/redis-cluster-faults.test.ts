import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ClusterKeys } from '../../src/broker/cluster/cluster-keys';
import { evenSlotTags } from '../../src/broker/cluster/partition-tags';
import { freePort } from '../helpers/free-port';
import { scrapeMetrics } from '../helpers/metrics-text';
import { RecoveringClient } from '../helpers/recovering-client';
import { TestRedisCluster } from '../helpers/redis-cluster';
import { historyData } from '../helpers/sequence-publisher';
import { type ServerProcess, startReadyWith } from '../helpers/server-process';
import { sleep, waitFor } from '../helpers/wait';

const PARTITIONS = 16;
const keys = new ClusterKeys('bc:', evenSlotTags(PARTITIONS));

let cluster: TestRedisCluster;
let server: ServerProcess;
let metricsUrl = '';
const clients: RecoveringClient[] = [];
const rows: string[] = [];

before(async () => {
  cluster = await TestRedisCluster.start();
  const admin = await freePort();
  metricsUrl = `http://127.0.0.1:${admin}/metrics`;
  server = await startReadyWith([
    '--admin-port',
    String(admin),
    '--port', '0', '--host', '127.0.0.1',
    '--redis-cluster-nodes', cluster.startupNodes.map((n) => `${n.host}:${n.port}`).join(','),
    '--redis-cluster-partitions', String(PARTITIONS),
    '--redis-probe-interval', '200', '--redis-probe-timeout', '1000',
    '--history-size', '10000', '--history-ttl', '600',
  ]);
});
after(async () => {
  await Promise.allSettled(clients.map((c) => c.stop()));
  await server?.stop();
  await cluster?.stop();
  if (rows.length > 0) console.log(['| fault | channel | its shard | accepted | rejected | delivered | lost | client repairs | server: gaps repaired, checks against history |', '|---|---|---|---|---|---|---|---|---|', ...rows].join('\n'));
});

/** A channel named `<stem>:<n>` whose slot the master on `port` serves. */
async function channelOn(stem: string, port: number): Promise<string> {
  for (let n = 0; n < 1000; n++) if ((await cluster.masterOf(keys.slotOf(`${stem}:${n}`))) === port) return `${stem}:${n}`;
  throw new Error(`no channel ${stem}:0-999 on the master ${port}`);
}

/** Publishes "1", "2", … every `intervalMs` until `stop()`, without retries: counts accepted and rejected. */
function publishing(channel: string, intervalMs: number): { stop: () => Promise<{ accepted: string[]; rejected: number }> } {
  const accepted: string[] = [];
  let rejected = 0;
  let running = true;
  const loop = (async () => {
    for (let i = 1; running; i++) {
      const res = await fetch(`${server.http}/v1/channels/${channel}/publish`, { method: 'POST', body: String(i) }).catch(() => null);
      if (res !== null) await res.arrayBuffer();
      if (res?.status === 200) accepted.push(String(i));
      else rejected++;
      await sleep(intervalMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { accepted, rejected };
    },
  };
}

/** Samples /readyz every 25 ms until stopped: the statuses seen, in order, without repeats. */
function readiness(): { stop: () => Promise<number[]> } {
  const seen: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const status = await fetch(`${server.http}/readyz`).then((r) => r.status, () => 0);
      if (seen.at(-1) !== status) seen.push(status);
      await sleep(25);
    }
  })();
  return { stop: async () => ((running = false), await loop, seen) };
}

/** Runs `fault` while `channels` are published every 10 ms; checks every accepted publication reached the client once, in order. */
async function underFault(name: string, channels: Array<{ channel: string; affected: boolean }>, fault: () => Promise<void>): Promise<void> {
  const client = new RecoveringClient([server.wsUrl()], channels.map((c) => c.channel));
  clients.push(client);
  await client.start();
  await waitFor('subscribed', () => channels.every((c) => client.positions.has(c.channel)));
  const counters = async (): Promise<number[]> => {
    const m = await scrapeMetrics(metricsUrl);
    return [m.get('broadcaster_gaps_repaired_total') ?? 0, m.get('broadcaster_broker_reconnects_total') ?? 0];
  };
  const before = await counters();
  const pubs = channels.map((c) => publishing(c.channel, 10));
  await sleep(300);
  await fault();
  await sleep(500);
  const results = await Promise.all(pubs.map((p) => p.stop()));
  const delta = (await counters()).map((v, i) => v - before[i]!);
  for (const [i, { channel, affected }] of channels.entries()) {
    const { accepted, rejected } = results[i]!;
    const log = client.logs.get(channel)!;
    await waitFor(`${channel}: every accepted publication delivered`, () => accepted.every((d) => log.data.includes(d)), 10_000).catch(() => {});
    const lost = accepted.filter((d) => !log.data.includes(d)).length;
    rows.push(`| ${name} | ${channel} | ${affected ? 'faulted' : 'other'} | ${accepted.length} | ${rejected} | ${log.data.length} | ${lost} | ${client.repairs} | ${delta[0]}, ${delta[1]} |`);
    assert.equal(lost, 0, `${name}: ${channel} lost ${lost} accepted publications`);
    assert.equal(log.duplicates, 0);
    assert.deepEqual(log.data, (await historyData(server.http, channel)).data, `${channel}: the client saw the history, in order`);
  }
  assert.equal(client.repairs, 0, 'the server repaired every gap (the client never had to)');
  assert.equal(client.connections, 1, 'the client stayed connected');
  assert.ok(server.alive(), 'the server did not crash');
}

test('master killed, replica promoted: /readyz says 503 meanwhile, no accepted publication lost', { timeout: 60_000 }, async () => {
  const shards = (await cluster.shards()).filter((s) => s.ranges.length > 0);
  const [victim, other] = [shards[0]!.master.port, shards[1]!.master.port];
  const channels = [{ channel: await channelOn('fo', victim), affected: true }, { channel: await channelOn('fo', other), affected: false }];
  const ready = readiness();
  await underFault('master killed', channels, async () => {
    await cluster.killMasterAndAwaitPromotion(victim);
  });
  await waitFor('ready again', async () => (await fetch(`${server.http}/readyz`)).status === 200);
  const seen = await ready.stop();
  assert.ok(seen.includes(503), `readyz went 503 during the failover (saw ${seen.join(' → ')})`);
  assert.equal(seen.at(-1), 200);
});

test('the killed node restarted (rejoins as a replica): nothing lost', { timeout: 60_000 }, async () => {
  const down = cluster.nodeInfo.find((n) => n.pid === null)!.port;
  const shards = (await cluster.shards()).filter((s) => s.ranges.length > 0);
  const channels = [{ channel: await channelOn('rs', shards[0]!.master.port), affected: true }];
  await underFault('node restarted', channels, () => cluster.restart(down));
});

test('slot migrated while publishing: subscriptions follow the slot, gaps repaired from history', { timeout: 60_000 }, async () => {
  const shards = (await cluster.shards()).filter((s) => s.ranges.length > 0);
  const [source, target] = [shards[1]!.master.port, shards[2]!.master.port];
  const channel = await channelOn('mg', source);
  const channels = [{ channel, affected: true }];
  await underFault('slot migrated', channels, () => cluster.migrateSlot(keys.slotOf(channel), target));
  assert.equal(await cluster.masterOf(keys.slotOf(channel)), target);
});
