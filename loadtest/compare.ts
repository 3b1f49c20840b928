/**
 * Comparison runner CLI: the same workloads against the limit uWS server, the broadcaster
 * (memory broker, Redis 1 process, Redis N processes on one port), Bun, ws+ioredis and
 * Socket.IO, one after another in one run. Prints tables with ratios to the limit and the
 * issue's targets, writes JSON (then `loadtest/chart.ts` draws the SVG).
 *
 *   node dist/loadtest/compare.js --workloads a --systems limit,bc-redis-1,bun,ws,socketio
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bool, num, parseFlags, str } from './cli-args.js';
import { runComparison, stopAll, type CompareConfig } from './compare/run-compare.js';
import { checkTargets, formatTables, summarize } from './compare/report.js';
import { describeEnvironment } from './compare/environment.js';
import { SYSTEM_IDS, type SystemId } from './compare/systems.js';
import { resolveWorkloads } from './compare/workloads.js';

const USAGE = `usage: compare [options]
  --workloads LIST   workload ids or groups: a (a10,a100,a1000), prod (a10,a100,a100-c32,a1000,a1000-c32), b, c (c64,c1k,c16k), d, sweep, all, smoke
                     (bc-redis-history and bc-redis-secure: the history feed; secure adds --jwt-secret + tokens)
                     (default a)
  --systems LIST     ${SYSTEM_IDS.join(',')} (default: all)
  --processes N      processes of bc-redis-n (default 2)
  --repeat N         runs per (workload, system), interleaved; medians reported (default 1)
  --duration S       override every workload's publishing seconds
  --subscribers N    override every workload's subscribers
  --http-in-flight N HTTP-fed systems: N publishes in flight over N connections (0: sequential on one
                     keep-alive connection per lane); overrides the workloads' own (*-c32: 32)
  --drain S          seconds to wait for deliveries after the last publish (default 30)
  --recount S        a run that lost messages waits up to S more seconds and counts again: what
                     arrives meanwhile was late (the generator fell behind), not lost (default 15; 0: none)
  --gen-workers N    generator worker processes (default: one per 15k subscribers)
  --out FILE         JSON (default loadtest/results/compare-<time>.json)
  --verbose          generator progress lines`;

async function main(): Promise<void> {
  const f = parseFlags(
    process.argv.slice(2),
    ['workloads', 'systems', 'processes', 'repeat', 'duration', 'subscribers', 'gen-workers', 'out', 'http-in-flight', 'drain', 'recount'],
    ['verbose'],
    USAGE,
  );
  const systems = str(f, 'systems', SYSTEM_IDS.join(','))
    .split(',')
    .filter((s) => s !== '') as SystemId[];
  for (const s of systems) {
    if (!(SYSTEM_IDS as readonly string[]).includes(s)) {
      process.stderr.write(`unknown system ${s}; known: ${SYSTEM_IDS.join(', ')}\n`);
      process.exit(2);
    }
  }
  const workloads = resolveWorkloads(str(f, 'workloads', 'a'));
  const duration = f.duration;
  const subs = f.subscribers;
  for (const w of workloads) {
    if (duration !== undefined) w.duration = num(f, 'duration', w.duration, 0.5, 600);
    if (subs !== undefined) w.subscribers = num(f, 'subscribers', w.subscribers, 1, 200_000);
    if (f['http-in-flight'] !== undefined) w.httpInFlight = num(f, 'http-in-flight', 0, 0, 1024);
  }
  const cfg: CompareConfig = {
    workloads,
    systems,
    processes: num(f, 'processes', 2, 1, 16),
    repeat: num(f, 'repeat', 1, 1, 20),
    generatorWorkers: num(f, 'gen-workers', 1, 1, 32),
    verbose: bool(f, 'verbose'),
    drainMs: num(f, 'drain', 30, 1, 300) * 1000,
    recountMs: num(f, 'recount', 15, 0, 300) * 1000,
    log: (line) => process.stdout.write(`${line}\n`),
  };
  // Interrupted: stop the servers and the private Redis of the current run, then exit.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stopAll().finally(() => process.exit(130));
    });
  }
  const environment = describeEnvironment();
  const startedAt = new Date().toISOString();
  const runs = await runComparison(cfg);
  const rows = summarize(runs);
  const targets = checkTargets(rows);
  process.stdout.write(`${formatTables(rows, runs)}\n\nTargets (issues 3 and 14):\n`);
  for (const t of targets) process.stdout.write(`  [${t.status}] ${t.target}: ${t.measured}\n`);
  process.stdout.write(`\n${environment.cpus} CPUs (${environment.cpu}), Node ${environment.node}, ${JSON.stringify(environment.versions)}\n`);
  const out = str(f, 'out', path.join('loadtest', 'results', `compare-${startedAt.replace(/[:.]/g, '-')}.json`));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), environment, config: { ...cfg, log: undefined }, rows, targets, runs }, null, 2),
  );
  process.stdout.write(`results written to ${out}\n`);
}

void main().catch((err: Error) => {
  process.stderr.write(`compare: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
