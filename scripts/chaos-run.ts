/**
 * Runs one chaos scenario: fresh Redis and servers, recovering clients, a fixed-rate publisher,
 * the fault mid-stream, a settle wait, then the figures from clients, history and server counters.
 */
import { ChaosClient } from './chaos-client';
import { ChaosCluster, type CounterName } from './chaos-cluster';
import { IdTable } from './chaos-ids';
import { ChaosPublisher, type PublishedChannel } from './chaos-publisher';
import type { Scenario } from './chaos-scenarios';
import { missingNow, tally, type DeliveryFigures, type HistoryIds } from './chaos-tally';

/** Sizes of a run (same for every scenario). */
export interface RunSize {
  /** Clients on the ordinary channels. */
  clients: number;
  /** Ordinary channels. */
  channels: number;
  /** Channels each client subscribes to. */
  channelsPerClient: number;
  /** Publications per second per ordinary channel. */
  rate: number;
  /** Seconds of publishing. */
  duration: number;
  /** Broadcaster processes. */
  servers: number;
}

/** Everything measured in one scenario. */
export interface ScenarioResult {
  name: string;
  fault: string;
  /** Publications acknowledged by the servers. */
  published: number;
  /** Publish attempts that failed and were retried. */
  publishRetries: number;
  /** Messages never acknowledged after 15 s of retries. */
  publishAbandoned: number;
  delivery: DeliveryFigures;
  /** Server counters summed over processes (and restarts). */
  server: Record<CounterName, number>;
  /** Unexpected server exits. */
  crashes: string[];
  /** Error-level log lines of the servers. */
  serverErrors: number;
  /** Log counts: subscriber reconnects, gap repairs, resync notices. */
  logs: { subscriberReconnects: number; gapWarnings: number; resyncWarnings: number };
  notes: string[];
  /** Seconds from the end of publishing until every client caught up (or the wait ended). */
  settleSeconds: number;
  wallSeconds: number;
}

const HISTORY_ARGS = ['--history-size', '10000', '--history-ttl', '600', '--log-level', 'info'];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readHistory(base: string, channel: string, table: IdTable): Promise<HistoryIds> {
  const res = await fetch(`${base}/v1/channels/${channel}/history?since=0&limit=1000000`);
  if (res.status !== 200) throw new Error(`history of ${channel}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { epoch: string; publications: Array<{ data: unknown; encoding: string }> };
  const ids = body.publications.map((p) => {
    const text = p.encoding === 'base64' ? Buffer.from(p.data as string, 'base64').toString('latin1') : JSON.stringify(p.data);
    const end = text.indexOf('|');
    return table.intern(end < 0 ? text : text.slice(0, end));
  });
  return { epoch: body.epoch, ids };
}

async function startClients(clients: ChaosClient[]): Promise<void> {
  for (let i = 0; i < clients.length; i += 50) {
    for (const c of clients.slice(i, i + 50)) c.start();
    await sleep(20);
  }
  const deadline = Date.now() + 30_000;
  while (!clients.every((c) => c.subscribed)) {
    if (Date.now() > deadline) throw new Error(`only ${clients.filter((c) => c.subscribed).length} of ${clients.length} clients subscribed within 30 s`);
    await sleep(50);
  }
}

/** Runs `scenario` at `size`; every process it started is stopped before it returns or throws. */
export async function runScenario(scenario: Scenario, size: RunSize, log: (line: string) => void): Promise<ScenarioResult> {
  const started = Date.now();
  const cluster = await ChaosCluster.start({
    servers: size.servers,
    persistent: scenario.persistent ?? false,
    redisArgs: scenario.redisArgs ?? [],
    serverArgs: [...HISTORY_ARGS, ...(scenario.serverArgs ?? [])],
  });
  const clients: ChaosClient[] = [];
  const heavyClients: ChaosClient[] = [];
  try {
    const ordinary = Array.from({ length: size.channels }, (_, i) => `chaos:${i}`);
    const published: PublishedChannel[] = ordinary.map((name) => ({ name, rate: size.rate, padding: 0 }));
    if (scenario.heavy) published.push({ name: 'heavy', rate: scenario.heavy.rate, padding: scenario.heavy.padding });
    const ids = new Map(published.map((c) => [c.name, new IdTable()]));
    const urls = (i: number): string[] => Array.from({ length: cluster.size }, (_, k) => cluster.wsUrl((i + k) % cluster.size));
    for (let i = 0; i < size.clients; i++) {
      const channels = Array.from({ length: size.channelsPerClient }, (_, k) => ordinary[(i + k * 3) % ordinary.length]!);
      clients.push(new ChaosClient(urls(i), [...new Set(channels)], ids));
    }
    for (let i = 0; i < (scenario.heavy?.clients ?? 0); i++) heavyClients.push(new ChaosClient(urls(i), ['heavy'], ids));
    const everyone = [...clients, ...heavyClients];
    await startClients(everyone);
    log(`  ${everyone.length} clients subscribed on ${cluster.size} servers; publishing ${published.length} channels for ${size.duration} s`);

    const publisher = new ChaosPublisher(
      Array.from({ length: cluster.size }, (_, i) => cluster.http(i)),
      published,
      ids,
    );
    const notes: string[] = [];
    const publishing = publisher.run(size.duration * 1000);
    await sleep(size.duration * 300);
    log(`  injecting: ${scenario.fault}`);
    await scenario.inject({ cluster, clients, heavyClients, publisher, notes, admin: () => cluster.redis.client() });
    await publishing;
    log(`  published ${publisher.tally.acked}; waiting for clients to catch up`);

    // Settle: until nothing is missing, or nothing arrived for 5 s, at most 30 s.
    const settleStart = Date.now();
    for (;;) {
      const missing = missingNow(everyone, ids, publisher.acked);
      const idle = Date.now() - Math.max(settleStart, ...everyone.map((c) => c.lastActivity));
      if (missing === 0 || idle > 5000 || Date.now() - settleStart > 30_000) break;
      await sleep(250);
    }
    const settleSeconds = (Date.now() - settleStart) / 1000;
    for (let i = 0; i < cluster.size; i++) await cluster.untilReady(i, 10_000);
    const history = new Map<string, HistoryIds>();
    for (const c of published) history.set(c.name, await readHistory(cluster.http(0), c.name, ids.get(c.name)!));
    const delivery = tally(everyone, ids, publisher.acked, history);
    const server = await cluster.counters();
    for (const c of everyone) c.stop();
    await cluster.stop();
    const logs = cluster.logs;
    return {
      name: scenario.name,
      fault: scenario.fault,
      published: publisher.tally.acked,
      publishRetries: publisher.tally.failedAttempts,
      publishAbandoned: publisher.tally.abandoned,
      delivery,
      server,
      crashes: cluster.crashes,
      serverErrors: logs.filter((l) => typeof l.level === 'number' && l.level >= 50).length,
      logs: {
        // Every process start opens one subscriber connection; more are reconnections.
        subscriberReconnects:
          logs.filter((l) => l.msg === 'redis connection ready' && l.role === 'subscriber').length - logs.filter((l) => l.msg === 'listening').length,
        gapWarnings: logs.filter((l) => l.msg === 'offset gap: filling from history').length,
        resyncWarnings: logs.filter((l) => l.msg === 'publications lost: resync notice sent').length,
      },
      notes,
      settleSeconds,
      wallSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const c of [...clients, ...heavyClients]) c.stop();
    await cluster.stop().catch(() => {});
  }
}
