/**
 * Chaos run for "no silent loss": for each fault scenario, starts a private redis-server and
 * broadcaster processes on 127.0.0.1, hundreds of recovering clients over several channels and a
 * fixed-rate publisher, injects the fault mid-stream, and prints messages published, delivered,
 * recovered, duplicated and lost (silently, or announced with recovered:false).
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/chaos.js [--scenario all|name[,name]]
 *     [--clients 500] [--duration 15] [--channels 8] [--rate 20] [--out file.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { stopEverything } from './chaos-cluster';
import { runScenario, type RunSize, type ScenarioResult } from './chaos-run';
import { SCENARIOS } from './chaos-scenarios';

const USAGE = `Usage: node dist/scripts/chaos.js [options]
  --scenario <all|name,...>  scenarios to run (default all): ${SCENARIOS.map((s) => s.name).join(', ')}
  --clients <n>              recovering clients on the ordinary channels (default 500, 10-5000)
  --duration <s>             seconds of publishing per scenario (default 15, 5-120)
  --channels <n>             ordinary channels (default 8, 1-100); each client takes 2
  --rate <n>                 publications per second per channel (default 20, 1-500)
  --out <file>               JSON results (default loadtest/results/chaos-<date>.json)`;

function numberFlag(value: string | undefined, name: string, def: number, min: number, max: number): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`--${name} must be an integer in [${min}, ${max}], got ${value}\n`);
    process.exit(2);
  }
  return n;
}

function parse(): { size: RunSize; names: string[]; out: string } {
  const options = {
    scenario: { type: 'string' },
    clients: { type: 'string' },
    duration: { type: 'string' },
    channels: { type: 'string' },
    rate: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean' },
  } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof options; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({
      options,
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const wanted = values.scenario ?? 'all';
  const names = wanted === 'all' ? SCENARIOS.map((s) => s.name) : wanted.split(',');
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown scenario ${unknown.join(', ')}\n${USAGE}\n`);
    process.exit(2);
  }
  const channels = numberFlag(values.channels, 'channels', 8, 1, 100);
  const size: RunSize = {
    clients: numberFlag(values.clients, 'clients', 500, 10, 5000),
    duration: numberFlag(values.duration, 'duration', 15, 5, 120),
    channels,
    channelsPerClient: Math.min(2, channels),
    rate: numberFlag(values.rate, 'rate', 20, 1, 500),
    servers: 2,
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = values.out ?? join(__dirname, '..', '..', 'loadtest', 'results', `chaos-${stamp}.json`);
  return { size, names, out };
}

const COLUMNS: Array<[string, (r: ScenarioResult) => string | number]> = [
  ['scenario', (r) => r.name],
  ['published', (r) => r.published],
  ['expected', (r) => r.delivery.expected],
  ['delivered', (r) => r.delivery.delivered],
  ['recovered', (r) => r.server.publications_recovered_total],
  ['gaps repaired', (r) => `${r.server.gaps_repaired_total}/${r.server.gaps_detected_total}`],
  ['resyncs', (r) => r.server.resyncs_sent_total],
  ['rec ok/fail', (r) => `${r.delivery.recoveredTrue}/${r.delivery.recoveredFalse}`],
  ['dup', (r) => r.delivery.duplicates + r.delivery.duplicateFrames],
  ['order', (r) => r.delivery.outOfOrder],
  ['lost silent', (r) => r.delivery.lostSilent],
  ['lost announced', (r) => r.delivery.lostAnnounced],
  ['crashes', (r) => r.crashes.length],
];

function table(results: ScenarioResult[]): string {
  const rows = [COLUMNS.map(([h]) => h), ...results.map((r) => COLUMNS.map(([, f]) => String(f(r))))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string => `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.slice(1).map(line)].join(
    '\n',
  );
}

function describe(r: ScenarioResult): string {
  const d = r.delivery;
  return [
    `  published ${r.published} (retried attempts ${r.publishRetries}, abandoned ${r.publishAbandoned}); ${d.subscriptions} subscriptions expected ${d.expected}, delivered ${d.delivered}`,
    `  server: recovered ${r.server.publications_recovered_total} publications in ${r.server.recoveries_succeeded_total} recoveries (${r.server.recoveries_failed_total} not recoverable); gaps ${r.server.gaps_detected_total} detected, ${r.server.gaps_repaired_total} repaired; resyncs ${r.server.resyncs_sent_total}; duplicates dropped ${r.server.duplicates_dropped_total}; probe failures ${r.server.broker_probe_failures_total}; 1006 closes ${r.server.abnormal_closes_total}; publish failures ${r.server.publish_failures_total}`,
    `  clients: reconnects ${d.reconnects} (close codes ${JSON.stringify(d.closeCodes)}), recovered:true ${d.recoveredTrue}, recovered:false ${d.recoveredFalse}, resync frames ${d.resyncFrames}, gaps ${d.clientGaps}, error replies ${d.errorReplies}, duplicate frames ${d.duplicateFrames}, duplicates ${d.duplicates}, out of order ${d.outOfOrder}`,
    `  lost: silent ${d.lostSilent}, announced ${d.lostAnnounced} (${d.subscriptionsTold} subscriptions told to reload); acked but not in final history ${d.ackedNotInHistory}; stored twice ${d.storedTwice}; stored though the publish failed ${d.storedNotAcked}`,
    `  logs: subscriber reconnects ${r.logs.subscriberReconnects}, gap warnings ${r.logs.gapWarnings}, resync warnings ${r.logs.resyncWarnings}, error lines ${r.serverErrors}; settled in ${r.settleSeconds.toFixed(1)} s, scenario ${r.wallSeconds.toFixed(0)} s`,
    ...r.notes.map((n) => `  note: ${n}`),
    ...r.crashes.map((c) => `  CRASH: ${c}`),
  ].join('\n');
}

function redisVersion(): string {
  try {
    return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ')[2]?.replace('v=', '') ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { size, names, out } = parse();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write('\ninterrupted: stopping every process\n');
    void stopEverything().finally(() => process.exit(130));
  });
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const machine = { cores: cpus().length, node: process.version, redis: redisVersion(), date: new Date().toISOString() };
  log(
    `chaos: ${names.length} scenario(s), ${size.clients} clients x ${size.channelsPerClient} of ${size.channels} channels at ${size.rate}/s each, ${size.duration} s, ${size.servers} servers (--workers 1); ${machine.cores} cores, Node ${machine.node}, redis ${machine.redis}`,
  );
  const results: ScenarioResult[] = [];
  const failed: string[] = [];
  for (const name of names) {
    const scenario = SCENARIOS.find((s) => s.name === name)!;
    log(`\n== ${name}: ${scenario.fault}`);
    // A hard bound per scenario: setup, publishing, fault, settle and teardown.
    const limitMs = (size.duration + 120) * 1000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        runScenario(scenario, size, log),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`scenario ${name} exceeded ${limitMs / 1000} s`)), limitMs))),
      ]);
      log(describe(result));
      results.push(result);
    } catch (err) {
      failed.push(`${name}: ${(err as Error).message}`);
      log(`  FAILED: ${(err as Error).message}`);
      await stopEverything();
    } finally {
      clearTimeout(timer);
    }
  }
  log(`\n${table(results)}`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify({ command: `node dist/scripts/chaos.js ${process.argv.slice(2).join(' ')}`.trim(), machine, size, results, failed }, null, 2),
  );
  log(`\nresults written to ${out}`);
  for (const f of failed) log(`scenario failed to run: ${f}`);
  const silent = results.reduce(
    (n, r) => n + r.delivery.lostSilent + r.delivery.duplicates + r.delivery.duplicateFrames + r.delivery.outOfOrder + r.crashes.length,
    0,
  );
  process.exitCode = failed.length > 0 ? 2 : silent > 0 ? 1 : 0;
}

main()
  .catch((err: Error) => {
    process.stderr.write(`chaos run failed: ${err.stack ?? err.message}\n`);
    process.exitCode = 2;
  })
  .finally(async () => {
    await stopEverything();
    // Clients, timers and keep-alive sockets of an aborted scenario must not keep the run alive.
    process.exit(process.exitCode ?? 0);
  });
