import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { unpack } from 'msgpackr';
import type { Broker, StreamPosition } from '../../src/broker/broker';
import { HistoryPolicies } from '../../src/config/history-policy';
import { TestRedisCluster } from '../helpers/redis-cluster';
import { testClusterBroker, testRedisBroker } from '../helpers/test-brokers';
import { TestRedis } from '../helpers/redis-server';
import { waitFor } from '../helpers/wait';

/**
 * A publication whose reply is lost (the connection is killed after Redis ran the history script,
 * before its answer arrived) must be failed — "may or may not have been made" — and never run a
 * second time by the client library: that would store and deliver it twice under two offsets.
 */

const HISTORY = 100_000;
const policies = new HistoryPolicies({ historySize: HISTORY, historyTtl: 600, historyNamespaces: '' });
/** Publications made in one run, at most, and how many are in flight at once. */
const TOTAL = 6000;
const IN_FLIGHT = 64;
/** The run stops after this long even if not all were made. */
const RUN_MS = 12_000;
/** Publications answered (accepted or refused) between two CLIENT KILL rounds: the fault's cadence, in progress rather than time, so the broker always gets going again. */
const KILL_EVERY = 40;

interface Outcome {
  /** Data of each accepted publication → its position. */
  accepted: Map<string, StreamPosition>;
  /** Publications failed (by the broker, or before reaching Redis). */
  refused: number;
  /** Client connections the kills closed. */
  killed: number;
  /** The first few refusal messages, for the log. */
  reasons: Set<string>;
}

/**
 * Publishes distinct data `p<i>` over `channels`, IN_FLIGHT at a time, while `kill` closes the
 * broker's connections each time KILL_EVERY more publications were answered. A worker whose
 * publication was refused waits until the broker is ready before its next one (a broker that
 * refuses at once while reconnecting would otherwise use up the run between two kills).
 */
async function publishWhileKilling(broker: Broker, channels: string[], kill: () => Promise<number>): Promise<Outcome> {
  const outcome: Outcome = { accepted: new Map(), refused: 0, killed: 0, reasons: new Set() };
  const deadline = Date.now() + RUN_MS;
  let next = 0;
  let publishing = true;
  const answered = () => outcome.accepted.size + outcome.refused;
  const killer = (async () => {
    while (publishing) {
      const mark = answered();
      await waitFor('publications to be answered', () => answered() >= mark + KILL_EVERY || !publishing, RUN_MS + 30_000);
      if (publishing) outcome.killed += await kill();
    }
  })();
  const worker = async (): Promise<void> => {
    while (next < TOTAL && Date.now() < deadline) {
      const i = next++;
      const data = `p${i}`;
      try {
        const { position } = await broker.publish(channels[i % channels.length]!, data);
        outcome.accepted.set(data, position!);
      } catch (err) {
        outcome.refused++;
        if (outcome.reasons.size < 5) outcome.reasons.add((err as Error).message);
        await waitFor('the broker to reconnect', () => broker.isReady(), RUN_MS + 30_000);
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  publishing = false;
  await killer;
  return outcome;
}

/** Every data found in the channels' histories → the offsets it is stored under (more than one: stored twice). */
async function stored(broker: Broker, channels: string[]): Promise<Map<string, Array<{ channel: string; offset: number }>>> {
  const found = new Map<string, Array<{ channel: string; offset: number }>>();
  for (const channel of channels) {
    const page = await broker.history(channel, 0, HISTORY);
    assert.ok(page !== null);
    for (const { offset, envelope } of page.publications) {
      const data = String((unpack(envelope) as unknown[])[1]);
      const list = found.get(data) ?? [];
      list.push({ channel, offset });
      found.set(data, list);
    }
  }
  return found;
}

/**
 * Asserts that nothing was stored twice and every accepted publication is stored once, where its
 * answer said; reads the histories with `reader`, a broker of its own (the storm's may still be
 * taking in its last closes).
 */
async function assertStoredAtMostOnce(name: string, reader: Broker, channels: string[], outcome: Outcome): Promise<void> {
  await reader.start();
  await waitFor(`a reader on ${name} ready`, () => reader.isReady(), 30_000);
  const found = await stored(reader, channels);
  const twice = [...found].filter(([, places]) => places.length > 1);
  console.log(
    `# ${name}: ${outcome.accepted.size} accepted, ${outcome.refused} refused, ${outcome.killed} connections killed, ` +
      `${found.size} stored, ${twice.length} stored more than once; refusals: ${JSON.stringify([...outcome.reasons])}`,
  );
  assert.deepEqual(
    twice.slice(0, 10).map(([data, places]) => `${data} at ${places.map((p) => `${p.channel}#${p.offset}`).join(', ')}`),
    [],
    `${twice.length} publications were stored more than once`,
  );
  for (const [data, position] of outcome.accepted) {
    assert.deepEqual(
      found.get(data)?.map((p) => p.offset),
      [position.offset],
      `${data}: accepted at offset ${position.offset}`,
    );
  }
  assert.ok(outcome.killed > 0, 'the broker had connections to kill');
}

describe('a publication whose reply is lost is never run twice', { timeout: 240_000 }, () => {
  let redis: TestRedis;
  let cluster: TestRedisCluster;
  before(async () => {
    [redis, cluster] = await Promise.all([TestRedis.start(), TestRedisCluster.start()]);
  });
  after(async () => {
    await Promise.all([redis?.kill(), cluster?.stop()]);
  });

  test('one Redis: CLIENT KILL TYPE normal during a publish storm', { timeout: 120_000 }, async () => {
    const [broker, reader] = [testRedisBroker(redis.url, 'lost:', policies), testRedisBroker(redis.url, 'lost:', policies)];
    await broker.start();
    await waitFor('ready', () => broker.isReady());
    const admin = redis.client();
    try {
      const channels = Array.from({ length: 16 }, (_, i) => `dup:${i}`);
      const outcome = await publishWhileKilling(broker, channels, async () => Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')));
      await assertStoredAtMostOnce('one Redis', reader, channels, outcome);
    } finally {
      admin.disconnect();
      await Promise.all([broker.close(), reader.close()]);
    }
  });

  test('Redis Cluster (3 masters + 3 replicas): CLIENT KILL TYPE normal on every master during a publish storm', { timeout: 120_000 }, async () => {
    const [broker, reader] = [testClusterBroker(cluster, 'lost:', policies), testClusterBroker(cluster, 'lost:', policies)];
    await broker.start();
    await waitFor('ready', () => broker.isReady(), 30_000);
    const masters = (await cluster.shards()).map((s) => s.master.port);
    const admins = masters.map((port) => cluster.client(port));
    try {
      await Promise.all(admins.map((a) => a.connect()));
      const channels = Array.from({ length: 16 }, (_, i) => `dup:${i}`);
      const outcome = await publishWhileKilling(broker, channels, async () => {
        const counts = await Promise.all(admins.map((a) => a.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')));
        return counts.reduce((sum: number, n) => sum + Number(n), 0);
      });
      await assertStoredAtMostOnce('Redis Cluster', reader, channels, outcome);
    } finally {
      for (const a of admins) a.disconnect();
      await Promise.all([broker.close(), reader.close()]);
    }
  });
});
