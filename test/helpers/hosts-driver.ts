import { createInterface } from 'node:readline';
import { RecoveringClient } from './recovering-client';
import { historyData, publishSequence } from './sequence-publisher';
import { sleep } from './wait';

/**
 * The client side of the several-hosts test, run inside a client namespace (the test process
 * cannot reach the lab's addresses): JSON lines in on stdin, JSON lines out on stdout.
 * `{"cmd":"start", hosts, channel, count, intervalMs, publishVia}` starts, per host, a client that
 * behaves like one behind a health-checking balancer (when its host's /readyz says 503 it drops
 * the connection and reconnects to a ready host, recovering from its position) and, on the first
 * host, a patient one that stays; then publishes `count` publications through `publishVia`.
 * Out: `{"ready":{host:status}}` on every readiness change, `{"event":…}`, and a final `{"report":…}`.
 */

interface Host {
  name: string;
  http: string;
  ws: string;
}
interface Start {
  cmd: 'start';
  hosts: Host[];
  channel: string;
  count: number;
  intervalMs: number;
  publishVia: string[];
}

const out = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

async function run(start: Start): Promise<void> {
  const status = new Map<string, number>(start.hosts.map((h) => [h.name, 0]));
  // Readiness is reported until the test says exit, also after the report: a host may become
  // ready again after every client has caught up, and the test waits for that.
  void (async () => {
    for (;;) {
      let changed = false;
      for (const host of start.hosts) {
        const s = await fetch(`${host.http}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
          (r) => r.status,
          () => 0,
        );
        if (status.get(host.name) !== s) changed = true;
        status.set(host.name, s);
      }
      if (changed) out({ ready: Object.fromEntries(status) });
      await sleep(100);
    }
  })();
  const readyBy = Date.now() + 30_000;
  while ([...status.values()].some((s) => s !== 200)) {
    if (Date.now() > readyBy) throw new Error(`hosts not ready within 30 s: ${JSON.stringify(Object.fromEntries(status))}`);
    await sleep(50);
  }
  // Balanced clients: urls is the (mutable) list the client reconnects over: the ready hosts.
  const balanced = start.hosts.map((host) => {
    const urls = [host.ws];
    return { home: host.name, at: host.name, urls, client: new RecoveringClient(urls, [start.channel]) };
  });
  const patient = new RecoveringClient([start.hosts[0]!.ws], [start.channel]);
  await Promise.all([...balanced.map((b) => b.client.start()), patient.start()]);
  out({ event: 'subscribed' });
  let balancingOn = true;
  const balancing = (async () => {
    while (balancingOn) {
      for (const b of balanced) {
        if (status.get(b.at) !== 503) continue;
        const target = start.hosts.find((h) => status.get(h.name) === 200);
        if (target === undefined) continue;
        b.urls.splice(0, b.urls.length, target.ws);
        b.client.cut();
        out({ event: 'moved', client: b.home, from: b.at, to: target.name });
        b.at = target.name;
      }
      await sleep(50);
    }
  })();
  const via = start.publishVia.map((name) => start.hosts.find((h) => h.name === name)!.http);
  const retries = await publishSequence(via, start.channel, start.count, start.intervalMs);
  out({ event: 'published', retries });
  const expected = await historyData(via[0]!, start.channel);
  const everyone = [...balanced.map((b) => [b.home, b.client] as const), ['patient', patient] as const];
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && everyone.some(([, c]) => c.logs.get(start.channel)!.data.length < expected.data.length)) await sleep(50);
  balancingOn = false;
  await balancing;
  const clients = Object.fromEntries(
    everyone.map(([name, c]) => {
      const log = c.logs.get(start.channel)!;
      return [
        name,
        {
          complete: JSON.stringify(log.data) === JSON.stringify(expected.data),
          received: log.data.length,
          duplicates: log.duplicates,
          gaps: log.gaps,
          repairs: c.repairs,
          connections: c.connections,
          recovered: log.recovered,
          resyncs: log.resyncs,
        },
      ];
    }),
  );
  out({ report: { published: expected.data.length, clients, finalHosts: Object.fromEntries(balanced.map((b) => [b.home, b.at])) } });
  await Promise.all(everyone.map(([, c]) => c.stop()));
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const message = JSON.parse(line) as Start | { cmd: 'exit' };
  if (message.cmd === 'exit') process.exit(0);
  run(message).then(
    () => out({ event: 'done' }),
    (err: Error) => {
      out({ error: err.stack ?? err.message });
      process.exit(1);
    },
  );
});
