import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Cluster } from 'ioredis';
import { ClusterKeys } from '../../src/broker/cluster/cluster-keys';
import { keySlot } from '../../src/broker/cluster/key-slot';
import { evenSlotTags, partitionsByMaster } from '../../src/broker/cluster/partition-tags';
import { SlotMap } from '../../src/broker/cluster/slot-map';
import { TestRedisCluster } from '../helpers/redis-cluster';
import { stillRunningAfter } from '../helpers/process-alive';
import { waitFor } from '../helpers/wait';

// Facts this file measures are written up in docs/SCALING.md, "Redis Cluster facts measured here".

let cluster: TestRedisCluster;
const clients: Array<{ disconnect(): void }> = [];
const keys = new ClusterKeys('bc:', evenSlotTags(3));

before(async () => {
  cluster = await TestRedisCluster.start();
}, { timeout: 60_000 });

after(async () => {
  for (const client of clients) client.disconnect();
  await cluster?.stop();
});

/** An ioredis Cluster the file disconnects at the end; `events` counts what it emitted; `name` tags its connections. */
function newCluster(sharded: boolean, name = 'harness'): { conn: Cluster; events: Map<string, number> } {
  const conn = new Cluster(cluster.startupNodes, { shardedSubscribers: sharded, redisOptions: { connectionName: name } });
  const events = new Map<string, number>();
  for (const name of ['error', 'nodeError', '+subscriber', '-subscriber', 'subscribersReady', 'refresh', '-node']) {
    conn.on(name, () => events.set(name, (events.get(name) ?? 0) + 1));
  }
  clients.push(conn);
  return { conn, events };
}

/** A raw RESP connection to one node that records every byte it receives (pushes included). */
async function rawConnection(port: number): Promise<{ socket: Socket; received: () => string; send: (...args: string[]) => void }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  clients.push({ disconnect: () => socket.destroy() });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  const send = (...args: string[]): void => {
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  };
  return { socket, received: () => text, send };
}

/** Publishes 1, 2, 3, … on `name` every `intervalMs` without waiting for replies (at most 5000), like many independent publishers. */
function publishEvery(pub: Cluster, name: string, intervalMs: number): { sent: () => number; stop: () => Promise<{ sent: number; failed: number; accepted: number[]; errors: string[] }> } {
  let sent = 0;
  let failed = 0;
  const accepted: number[] = [];
  const errors = new Set<string>();
  const pending = new Set<Promise<unknown>>();
  const timer = setInterval(() => {
    if (sent >= 5000) return;
    const n = ++sent;
    const reply = pub.spublish(name, String(n)).then(() => accepted.push(n), (err: Error) => {
      failed++;
      errors.add(err.message);
    });
    pending.add(reply);
    void reply.finally(() => pending.delete(reply));
  }, intervalMs);
  return {
    sent: () => sent,
    stop: async () => {
      clearInterval(timer);
      await Promise.all([...pending]);
      return { sent, failed, accepted: accepted.sort((a, b) => a - b), errors: [...errors] };
    },
  };
}

/** Publishes an end marker (-1) and waits for it: what was published before it has been delivered or lost. */
async function drained(pub: Cluster, name: string, got: number[]): Promise<void> {
  await pub.spublish(name, '-1');
  await waitFor('the end marker', () => got.includes(-1));
}

/** Publications Redis accepted that the subscriber never received. */
function lostOf(accepted: number[], got: number[]): number[] {
  const seen = new Set(got);
  return accepted.filter((n) => !seen.has(n));
}

/** Shard channels of `keys` for channels on every partition: one SSUBSCRIBE call per slot. */
function channelsOnEveryPartition(prefix: string): string[] {
  const channels: string[] = [];
  for (let i = 0; new Set(channels.map((c) => keys.partitionOf(c))).size < keys.partitions; i++) channels.push(`${prefix}-${i}`);
  return channels;
}

test('the harness starts 3 masters with one replica each, all slots covered, slots agree with CLUSTER KEYSLOT', { timeout: 30_000 }, async () => {
  const shards = await cluster.shards();
  assert.equal(shards.length, 3);
  for (const shard of shards) {
    assert.equal(shard.master.health, 'online');
    assert.equal(shard.replicas.length, 1);
    assert.equal(await cluster.replicaReady(shard.replicas[0]!.port), true);
    assert.match(String(await cluster.command(shard.replicas[0]!.port, 'INFO', 'replication')), /role:slave/);
  }
  assert.equal(cluster.nodeInfo.length, 6);
  assert.ok(cluster.nodeInfo.every((n) => n.pid !== null && n.port <= 55535));
  const port = cluster.runningPorts[0] as number;
  const map = SlotMap.fromClusterShards(await cluster.command(port, 'CLUSTER', 'SHARDS'));
  assert.ok(map.coversAllSlots());
  assert.deepEqual(SlotMap.fromClusterSlots(await cluster.command(port, 'CLUSTER', 'SLOTS')).masters, map.masters);
  // Partition tags for 3 partitions land one per master on the cluster redis-cli made.
  assert.deepEqual(partitionsByMaster(evenSlotTags(3), map).map((list) => list.length), [1, 1, 1]);
  for (const name of ['news', keys.stream('news'), keys.meta('chat:1'), keys.shardChannel('x'), '{}odd', 'a{b}c']) {
    assert.equal(await cluster.command(port, 'CLUSTER', 'KEYSLOT', name), keySlot(name), name);
  }
});

test('one Lua script updates a channel stream and meta and SPUBLISHes on its shard channel (one slot)', { timeout: 30_000 }, async () => {
  const { conn: sub } = newCluster(true);
  const got: string[] = [];
  sub.on('smessageBuffer', (_channel: Buffer, message: Buffer) => got.push(message.toString()));
  await sub.ssubscribe(keys.shardChannel('news'));
  const { conn } = newCluster(false);
  const script = "redis.call('HINCRBY', KEYS[2], 's', 1); redis.call('XADD', KEYS[1], '*', 'e', ARGV[2]); return redis.call('SPUBLISH', ARGV[1], ARGV[2])";
  assert.equal(await conn.eval(script, 2, keys.stream('news'), keys.meta('news'), keys.shardChannel('news'), 'from-lua'), 1);
  await waitFor('the scripted publication', () => got.includes('from-lua'));
  assert.equal(await conn.xlen(keys.stream('news')), 1);
  // A channel of another partition (another master here) is refused inside the script.
  let other = 'b';
  for (let i = 0; keys.partitionOf(other) === keys.partitionOf('news'); i++) other = `b${i}`;
  await assert.rejects(
    conn.eval("return redis.call('SPUBLISH', ARGV[1], 'x')", 1, keys.stream('news'), keys.shardChannel(other)),
    /non local key/,
  );
  await assert.rejects(conn.eval('return 1', 2, keys.stream('news'), keys.stream(other)), /CROSSSLOT/);
});

test('shardedSubscribers: one subscriber connection per master, one SSUBSCRIBE per slot, payloads arrive as Buffers', { timeout: 30_000 }, async () => {
  const channels = channelsOnEveryPartition('room');
  const bySlot = keys.shardChannelsBySlot(channels);
  assert.equal(bySlot.size, 3);
  const soloBySlot = keys.shardChannelsBySlot(channelsOnEveryPartition('solo'));

  // Without shardedSubscribers ioredis sends SSUBSCRIBEs over one subscriber connection: slots of
  // other shards are refused after redirections. How many get through depends on which node that
  // connection reached and on ioredis's slot refreshes meanwhile (one, sometimes two of three), never all.
  const { conn: single } = newCluster(false);
  const outcomes = await Promise.all([...soloBySlot.values()].map((names) => single.ssubscribe(...names).then(() => 'ok', (err: Error) => err.message)));
  assert.ok(outcomes.some((o) => o !== 'ok'), outcomes.join(' | '));
  assert.ok(outcomes.filter((o) => o !== 'ok').every((o) => /MOVED/.test(o)), outcomes.join(' | '));

  const { conn: sub } = newCluster(true, 'per-shard');
  // Two slots in one call are refused before anything is sent.
  const [first, second] = [...bySlot.values()] as [string[], string[]];
  await assert.rejects(sub.ssubscribe(first[0] as string, second[0] as string), /CROSSSLOT/);
  const got: Array<[string, Buffer]> = [];
  sub.on('smessageBuffer', (channel: Buffer, message: Buffer) => got.push([channel.toString(), message]));
  for (const names of bySlot.values()) await sub.ssubscribe(...names);
  const { conn: pub } = newCluster(false);
  const payload = Buffer.from([0x92, 0x01, 0xff, 0x00]);
  for (const channel of channels) assert.equal(await pub.spublish(keys.shardChannel(channel), payload), 1);
  await waitFor('every publication', () => got.length === channels.length);
  assert.ok(got.every(([, message]) => Buffer.isBuffer(message) && message.equals(payload)));
  assert.deepEqual(new Set(got.map(([name]) => keys.channelOf(name))), new Set(channels));
  for (const shard of await cluster.shards()) {
    const list = String(await cluster.command(shard.master.port, 'CLIENT', 'LIST'));
    const subscribers = list.split('\n').filter((line) => line.includes('name=ioredis-cluster(ssubscriber):per-shard ') && /ssub=[1-9]/.test(line));
    assert.equal(subscribers.length, 1, `master ${shard.master.port}: ${list}`);
  }
  // A bare sunsubscribe() throws synchronously in ioredis 6.0 (issue 2133): unsubscribe by name, one slot per call.
  assert.throws(() => void sub.sunsubscribe(), /Cannot read properties of undefined/);
  for (const names of bySlot.values()) await sub.sunsubscribe(...names);
  for (const channel of channels) assert.equal(await pub.spublish(keys.shardChannel(channel), payload), 0);
});

test('a master killed: its replica is promoted and sharded pub/sub resumes through the new master', { timeout: 60_000 }, async (t) => {
  const { conn: sub, events } = newCluster(true);
  const got: number[] = [];
  sub.on('smessageBuffer', (_c: Buffer, message: Buffer) => got.push(Number(message.toString())));
  const name = keys.shardChannel('failover');
  await sub.ssubscribe(name);
  const { conn: pub, events: pubEvents } = newCluster(false);
  const owner = await cluster.masterOf(keys.slotOf('failover'));

  const publisher = publishEvery(pub, name, 10);
  await waitFor('publications before the kill', () => got.length >= 10);
  const lastBeforeKill = publisher.sent();
  const killedAt = Date.now();
  const promoted = await cluster.killMasterAndAwaitPromotion(owner);
  const promotedMs = Date.now() - killedAt;
  const before = new Map(events);
  const lastBefore = publisher.sent();
  await waitFor('publications through the new master', () => got.some((n) => n > lastBefore), 20_000);
  const resumedMs = Date.now() - killedAt;
  const { sent, failed, accepted, errors } = await publisher.stop();
  await drained(pub, name, got);

  assert.notEqual(promoted, owner);
  const numsub = (await cluster.command(promoted, 'PUBSUB', 'SHARDNUMSUB', name)) as [string, number];
  assert.equal(numsub[1], 1, 'the subscriber is now on the promoted replica');
  const lost = lostOf(accepted, got);
  t.diagnostic(`failover: promoted ${owner} -> ${promoted} after ${promotedMs} ms; delivery resumed ${resumedMs} ms after the kill`);
  t.diagnostic(`failover: published ${sent} (killed after ${lastBeforeKill}), rejected ${failed}, accepted ${accepted.length}, received ${new Set(got.filter((n) => n > 0)).size}, accepted but lost ${lost.length} ${JSON.stringify(lost)}`);
  t.diagnostic(`failover: publish errors seen ${JSON.stringify(errors)}`);
  t.diagnostic(`failover: subscriber Cluster events until promotion ${JSON.stringify(Object.fromEntries(before))}; publisher ${JSON.stringify(Object.fromEntries(pubEvents))}`);
});

test('the killed master restarts and rejoins as a replica of the promoted one; sharded subscribers do not notice', { timeout: 60_000 }, async (t) => {
  const stopped = cluster.nodeInfo.find((n) => n.pid === null);
  assert.ok(stopped !== undefined, 'the previous test left one node stopped');
  const { conn: sub, events } = newCluster(true);
  const got: number[] = [];
  sub.on('smessageBuffer', (_c: Buffer, message: Buffer) => got.push(Number(message.toString())));
  const name = keys.shardChannel('failover'); // its slot is served by the promoted replica now
  await sub.ssubscribe(name);
  const { conn: pub } = newCluster(false);
  const publisher = publishEvery(pub, name, 10);
  await waitFor('publications before the restart', () => got.length >= 5);
  const quiet = new Map(events);
  await cluster.restart(stopped.port);
  const { accepted, failed } = await publisher.stop();
  await drained(pub, name, got);
  assert.equal(failed, 0);
  assert.deepEqual(lostOf(accepted, got), [], 'nothing lost while a replica rejoins');
  t.diagnostic(`restart: accepted ${accepted.length}, lost 0; subscriber Cluster events during the restart ${JSON.stringify(Object.fromEntries([...events].map(([k, v]) => [k, v - (quiet.get(k) ?? 0)]).filter(([, v]) => v !== 0)))}`);
  const shards = await cluster.shards();
  const shard = shards.find((s) => s.replicas.some((r) => r.port === stopped.port));
  assert.ok(shard !== undefined, `node ${stopped.port} is a replica again: ${JSON.stringify(shards)}`);
  assert.match(String(await cluster.command(stopped.port, 'INFO', 'replication')), new RegExp(`role:slave[\\s\\S]*master_port:${shard.master.port}[\\s\\S]*master_link_status:up`));
});

test('a slot migrated while publishing: the old owner pushes sunsubscribe, ioredis re-subscribes on the new owner', { timeout: 60_000 }, async (t) => {
  const channel = 'migrating';
  const name = keys.shardChannel(channel);
  const slot = keys.slotOf(channel);
  const source = await cluster.masterOf(slot);
  const target = (await cluster.shards()).find((s) => s.master.port !== source && s.ranges.length > 0)!.master.port;

  const probe = await rawConnection(source);
  probe.send('SSUBSCRIBE', name);
  await waitFor('the probe subscription', () => probe.received().includes('ssubscribe'));
  const { conn: sub, events } = newCluster(true);
  const got: number[] = [];
  sub.on('smessageBuffer', (_c: Buffer, message: Buffer) => got.push(Number(message.toString())));
  await sub.ssubscribe(name);
  const { conn: pub } = newCluster(false);

  const publisher = publishEvery(pub, name, 5);
  await waitFor('publications before the migration', () => got.length >= 10);
  let duringMigration: unknown[] = [];
  await cluster.migrateSlot(slot, target, async () => {
    // Keys moved, slot still MIGRATING on the source and IMPORTING on the target.
    duringMigration = [
      await cluster.command(source, 'SPUBLISH', name, '0').catch((err: Error) => err.message),
      await cluster.command(target, 'SPUBLISH', name, '0').catch((err: Error) => err.message),
    ];
  });
  const handedOverAt = publisher.sent();
  await waitFor('the sunsubscribe push on the probe', () => probe.received().includes('sunsubscribe'));
  const lastBefore = publisher.sent();
  await waitFor('publications through the new owner', () => got.some((n) => n > lastBefore), 20_000);
  const { sent, failed, accepted } = await publisher.stop();
  await drained(pub, name, got);

  assert.ok(typeof duringMigration[0] === 'number' && duringMigration[0] >= 1, `SPUBLISH on a MIGRATING source still delivers there: ${String(duringMigration[0])}`);
  assert.match(String(duringMigration[1]), /^MOVED /, 'the IMPORTING target redirects SPUBLISH without ASKING');
  assert.match(probe.received(), /\*3\r\n\$12\r\nsunsubscribe\r\n\$\d+\r\nbc:\{[^}]+\}migrating\r\n:0\r\n/);
  await assert.rejects(cluster.command(source, 'SPUBLISH', name, 'x'), /^ReplyError: MOVED|MOVED/);
  probe.send('SSUBSCRIBE', name);
  await waitFor('the refused re-subscription on the old owner', () => /-MOVED \d+ 127\.0\.0\.1:\d+\r\n$/.test(probe.received()));
  assert.deepEqual(await cluster.command(target, 'PUBSUB', 'SHARDNUMSUB', name), [name, 1]);
  assert.deepEqual(await cluster.command(source, 'PUBSUB', 'SHARDNUMSUB', name), [name, 0]);
  const lost = lostOf(accepted, got);
  t.diagnostic(`migration: published ${sent} (handover done after ${handedOverAt}), rejected ${failed}, accepted ${accepted.length}, received ${new Set(got.filter((n) => n > 0)).size}, accepted but lost ${lost.length} ${JSON.stringify(lost)}`);
  t.diagnostic(`migration: subscriber Cluster events ${JSON.stringify(Object.fromEntries(events))}`);
});

test('a cluster whose test process fails is stopped by PID at exit', { timeout: 60_000 }, async () => {
  const helper = join(__dirname, '..', 'helpers', 'redis-cluster.js');
  const script = `
    const { TestRedisCluster } = require(${JSON.stringify(helper)});
    TestRedisCluster.start().then((c) => {
      console.log(JSON.stringify(c.nodeInfo.map((n) => n.pid)));
      setTimeout(() => { throw new Error('test failure'); }, 50);
    });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.notEqual(code, 0);
  const pids = JSON.parse(out.split('\n')[0]!) as number[];
  assert.equal(pids.length, 6);
  for (const pid of pids) assert.equal(await stillRunningAfter(pid), false, `redis-server ${pid} stopped`);
});

test('a node that exits without being told to fails the next wait at once, naming it', { timeout: 30_000 }, async () => {
  const replica = (await cluster.shards()).find((s) => s.replicas.length > 0)!.replicas[0]!;
  const pid = cluster.nodeInfo.find((n) => n.port === replica.port)!.pid!;
  process.kill(pid, 'SIGKILL'); // not through the harness: an unexpected exit
  await assert.rejects(cluster.waitUntilHealthy(), new RegExp(`cluster node ${replica.port} exited unexpectedly \\(code null, signal SIGKILL\\)`));
});
