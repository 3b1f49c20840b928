/**
 * The comparison runner's engine: for each workload, runs each system one after another on
 * the same machine in one run (private Redis, own server processes), samples server CPU time
 * and RSS from /proc around the generator's phases, and stops every process it started by PID.
 */
import { SignJWT } from 'jose';
import { runLoad, type LoadOptions } from '../generator/coordinator.js';
import type { LoadResult } from '../generator/result.js';
import type { LatencySummary } from '../generator/latency.js';
import { autoSourceAddresses, DEFAULT_PER_ADDRESS } from '../generator/source-address.js';
import { channelNames } from '../cli-args.js';
import { cpuTimeUs, descendants, openFds, totalCpuUs, totalRss } from './proc-stats.js';
import { freePort, freePortRange } from '../../harness/ports.js';
import type { LossAttribution } from '../loss/attribute-loss.js';
import { LossProbe, type ExternalEvidence } from '../loss/loss-probe.js';
import { OUTPUT_LIMIT_LINE, readRedisView } from '../loss/redis-view.js';
import { type RunningProcess as ServerProcess, startProcess, stopProcess } from '../../harness/processes.js';
import { type TestRedis as PrivateRedis, startRedis } from '../../harness/redis.js';
import { systemSpec, type SystemId } from './systems.js';
import { countWrites, type WriteCount } from './write-counter.js';
import type { Workload } from './workloads.js';

/** Comparison settings. */
export interface CompareConfig {
  /** workloads, run in order */
  workloads: Workload[];
  /** systems, run one after another within each workload */
  systems: SystemId[];
  /** processes of bc-redis-n (and of limit/bun when a workload asks for several) */
  processes: number;
  /** runs of each (workload, system), interleaved */
  repeat: number;
  /** generator worker processes (0: one per 15k subscribers) */
  generatorWorkers: number;
  /** print generator progress lines */
  verbose: boolean;
  /** drain window after the last publish, ms (default 30 s) */
  drainMs?: number;
  /** further wait before recounting a run that lost messages, ms (default: the generator's) */
  recountMs?: number;
  /** log function for runner messages */
  log: (line: string) => void;
}

/** Figures of one system under one workload, one run. */
export interface SystemRun {
  /** workload id */
  workload: string;
  /** system id */
  system: SystemId;
  /** system label */
  label: string;
  /** run number, from 0 */
  run: number;
  /** server processes */
  processes: number;
  /** skipped (unavailable) or failed to start: why */
  error?: string;
  /** generator verdict */
  ok: boolean;
  /** generator problems */
  problems: string[];
  /** subscribers opened / asked */
  opened: number;
  /** subscribers asked */
  subscribers: number;
  /** deliveries expected and received */
  expected: number;
  /** payloads received */
  received: number;
  /** lost, duplicate and reordered deliveries */
  lost: number;
  /** duplicate deliveries */
  duplicates: number;
  /** reordered deliveries */
  reordered: number;
  /** delivered messages per second (first publish .. last delivery) */
  deliveredPerSec: number;
  /** acknowledged publishes per second */
  publishedPerSec: number;
  /** latency, ms */
  latency: LatencySummary;
  /** server CPU µs (all its processes) per delivered message, publish start .. drained */
  serverCpuUsPerMsg: number;
  /** Redis CPU µs per delivered message over the same window (0 without Redis) */
  redisCpuUsPerMsg: number;
  /** delivered frames per server socket-write syscall over the same window (0: perf could not count) */
  framesPerWrite: number;
  /** generator CPU µs per delivered message (whole run) */
  generatorCpuUsPerMsg: number;
  /** server RSS before any subscriber, bytes */
  rssBaseline: number;
  /** server RSS with every subscriber connected and idle, bytes */
  rssConnected: number;
  /** (rssConnected - rssBaseline) / opened, bytes */
  rssPerConnection: number;
  /** open fds of the server processes when connected (max over processes) */
  maxServerFds: number;
  /** who lost what (`verdict` 'no loss' when nothing was lost) */
  loss: LossAttribution;
  /** the evidence beside the generator's own view (the servers' counters, Redis, queued bytes) */
  lossEvidence?: ExternalEvidence;
  /** the full generator result (progress included) */
  result?: LoadResult;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function emptyRun(w: Workload, system: SystemId, label: string, run: number, processes: number, error: string): SystemRun {
  return {
    workload: w.id,
    system,
    label,
    run,
    processes,
    error,
    ok: false,
    problems: [error],
    opened: 0,
    subscribers: w.subscribers,
    expected: 0,
    received: 0,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    deliveredPerSec: 0,
    publishedPerSec: 0,
    latency: { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 },
    serverCpuUsPerMsg: 0,
    redisCpuUsPerMsg: 0,
    framesPerWrite: 0,
    generatorCpuUsPerMsg: 0,
    rssBaseline: 0,
    rssConnected: 0,
    rssPerConnection: 0,
    maxServerFds: 0,
    loss: { lost: 0, causes: [], verdict: error },
  };
}

/** A valid HS256 connection token for `secret`: {sub, exp in 1 hour, subscribe: ['*']}. */
export async function benchToken(secret: string, sub = 'loadtest'): Promise<string> {
  return new SignJWT({ subscribe: ['*'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

/** What the current system run started (server processes, private Redis), for stopAll(). */
const running = { procs: [] as ServerProcess[], redis: undefined as PrivateRedis | undefined };

/** Stops whatever the current system run started (the runner's SIGINT/SIGTERM handler). */
export async function stopAll(): Promise<void> {
  await Promise.all(running.procs.map((p) => stopProcess(p.child)));
  await running.redis?.stop();
}

/** Runs one system under one workload, with a fresh private Redis when it needs one. */
export async function runSystem(cfg: CompareConfig, w: Workload, id: SystemId, run: number): Promise<SystemRun> {
  const spec = systemSpec(id, id === 'bc-redis-n' || id === 'bc-prod-n' ? (w.processes ?? cfg.processes) : (w.processes ?? 1));
  const separate = w.separatePorts === true && !spec.supervised && spec.processes > 1;
  const why = spec.unavailable();
  if (why !== null) return emptyRun(w, id, spec.label, run, spec.processes, `skipped: ${why}`);
  const procs: ServerProcess[] = [];
  running.procs = procs;
  let redis: PrivateRedis | undefined;
  try {
    let redisKills = (): number => 0;
    if (spec.needsRedis) {
      redis = running.redis = await startRedis();
      redisKills = redis.countLog(OUTPUT_LIMIT_LINE);
    }
    // ports below the ephemeral range (freePort); one shared SO_REUSEPORT port, or one per process
    const port = await freePort();
    const ports = [port];
    if (separate) while (ports.length < spec.processes) ports.push(await freePort());
    // a broadcaster's admin listener (its loss counters): a supervisor's worker i on base + i
    const adminPorts: number[] = [];
    if (spec.metrics && spec.supervised) {
      const base = await freePortRange(spec.processes);
      for (let i = 0; i < spec.processes; i++) adminPorts.push(base + i);
    } else if (spec.metrics) while (adminPorts.length < spec.processes) adminPorts.push(await freePort());
    if (spec.supervised)
      procs.push(
        await startProcess(spec.command(port, redis?.url ?? '', adminPorts[0] ?? 0), { timeoutMs: 30_000, listeningLines: spec.processes, keepLogs: false }),
      );
    else
      for (let i = 0; i < spec.processes; i++)
        procs.push(await startProcess(spec.command(separate ? ports[i]! : port, redis?.url ?? '', adminPorts[i] ?? 0), { keepLogs: false }));
    const query = spec.jwtSecret !== undefined ? `token=${await benchToken(spec.jwtSecret)}` : '';
    await sleep(500);
    // a supervisor's workers are measured with it
    const pids = procs.flatMap((p) => (spec.supervised ? [p.pid, ...descendants(p.pid)] : [p.pid]));
    const rssBaseline = totalRss(pids);
    let rssConnected = 0;
    let maxServerFds = 0;
    let cpu0 = 0;
    let redis0 = 0;
    let cpu1 = 0;
    let redis1 = 0;
    let writeCount: WriteCount | undefined;
    let writes = 0;
    const activeRedis = redis;
    const probe = new LossProbe({
      adminPorts,
      serverPorts: ports,
      redis: activeRedis === undefined ? undefined : () => readRedisView(activeRedis.port, redisKills()),
    });
    const o: LoadOptions = {
      label: `${w.id} ${spec.label}`,
      host: '127.0.0.1',
      port,
      ports,
      query,
      path: spec.path,
      client: spec.client,
      subscribers: w.subscribers,
      channels: channelNames('lt.', w.channels),
      workers: w.generatorWorkers ?? cfg.generatorWorkers,
      sourceAddresses: autoSourceAddresses(w.subscribers),
      perAddress: DEFAULT_PER_ADDRESS,
      localPortBase: w.localPortBase ?? 0,
      connectConcurrency: w.connectConcurrency ?? 256,
      connectRetries: w.connectRetries ?? 0,
      retryBackoffMs: 500,
      handshakeTimeoutMs: 20_000,
      connectPhaseMs: w.connectPhaseMs ?? 180_000,
      settleMs: 1000,
      drainMs: cfg.drainMs ?? 30_000,
      ...(cfg.recountMs !== undefined ? { recountMs: cfg.recountMs } : {}),
      quiet: !cfg.verbose,
      publisher: {
        via: spec.via,
        target: spec.via === 'http' ? `http://127.0.0.1:${port}` : spec.via === 'ws' ? `ws://127.0.0.1:${port}/ws` : (redis?.url ?? ''),
        redisPrefix: spec.redisPrefix,
        rate: w.rate,
        size: w.size,
        durationMs: w.duration * 1000,
        maxMessages: Math.ceil(w.rate * w.duration) + 10,
        publisherId: 0,
        lanes: 4,
        maxInFlight: 10_000,
        httpInFlight: w.httpInFlight ?? 0,
      },
    };
    const result = await runLoad(o, {
      async onConnected() {
        await sleep(500);
        rssConnected = totalRss(pids);
        maxServerFds = Math.max(...pids.map(openFds));
      },
      onPublishStart() {
        cpu0 = totalCpuUs(pids);
        redis0 = redis === undefined ? 0 : cpuTimeUs(redis.pid);
        writeCount = countWrites(pids);
      },
      async onDrained() {
        cpu1 = totalCpuUs(pids);
        redis1 = redis === undefined ? 0 : cpuTimeUs(redis.pid);
        writes = (await writeCount?.stop()) ?? 0;
        await probe.atDrained();
      },
      onCounted: () => probe.atCounted(),
    });
    const { loss, evidence: lossEvidence } = probe.attribute(result);
    const exited = procs.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    for (const p of exited) {
      result.problems.push(
        `server pid ${p.pid} exited during the run (${p.child.exitCode ?? p.child.signalCode}): ${[...p.notable, ...p.tail.slice(-2)].join(' | ')}`,
      );
      result.ok = false;
    }
    if (redis !== undefined && !redis.alive()) {
      result.problems.push(`redis-server exited during the run: ${redis.tail.slice(-3).join(' | ')}`);
      result.ok = false;
    }
    const notable = procs.flatMap((p) => p.notable);
    if (notable.length > 0) result.problems.push(`server said: ${notable.join(' | ')}`);
    const received = result.delivery.received;
    const perMsg = (us: number): number => (received > 0 ? Math.round((us / received) * 1000) / 1000 : 0);
    const opened = result.connections.opened;
    return {
      workload: w.id,
      system: id,
      label: spec.label,
      run,
      processes: spec.processes,
      ok: result.ok,
      problems: result.problems,
      opened,
      subscribers: w.subscribers,
      expected: result.delivery.expected,
      received,
      lost: result.delivery.lost,
      duplicates: result.delivery.duplicates,
      reordered: result.delivery.reordered,
      deliveredPerSec: result.rates.delivered,
      publishedPerSec: result.rates.published,
      latency: result.latency,
      serverCpuUsPerMsg: perMsg(cpu1 - cpu0),
      redisCpuUsPerMsg: spec.needsRedis ? perMsg(redis1 - redis0) : 0,
      framesPerWrite: writes > 0 ? Math.round((received / writes) * 10) / 10 : 0,
      generatorCpuUsPerMsg: result.generatorCpuUsPerMessage,
      rssBaseline,
      rssConnected,
      rssPerConnection: opened > 0 ? Math.round((rssConnected - rssBaseline) / opened) : 0,
      maxServerFds,
      loss,
      lossEvidence,
      result,
    };
  } catch (err) {
    const tail = procs.flatMap((p) => p.tail.slice(-5)).join('\n');
    return emptyRun(w, id, spec.label, run, spec.processes, `${(err as Error).message}${tail !== '' ? `\n${tail}` : ''}`);
  } finally {
    await Promise.all(procs.map((p) => stopProcess(p.child)));
    await redis?.stop();
    running.procs = [];
    running.redis = undefined;
  }
}

/** Runs every workload against every system; returns all runs. */
export async function runComparison(cfg: CompareConfig): Promise<SystemRun[]> {
  const runs: SystemRun[] = [];
  for (const w of cfg.workloads) {
    const systems = w.systems !== undefined ? w.systems.filter((s) => cfg.systems.includes(s) || cfg.systems.length === 0) : cfg.systems;
    cfg.log(`\n== ${w.label} (${w.subscribers} subs, ${w.channels} ch, ${w.rate} msg/s, ${w.size} B, ${w.duration} s)`);
    for (let r = 0; r < cfg.repeat; r++) {
      for (const s of systems) {
        const t0 = Date.now();
        const res = await runSystem(cfg, w, s, r);
        runs.push(res);
        cfg.log(
          `  ${res.label.padEnd(26)} run ${r + 1}: ` +
            (res.error !== undefined
              ? res.error.split('\n')[0]!
              : `${res.deliveredPerSec}/s delivered, lost ${res.lost}${res.lost > 0 ? ` [${res.loss.verdict}]` : ''}, p50 ${res.latency.p50} ms, p99 ${res.latency.p99} ms, ` +
                `cpu ${res.serverCpuUsPerMsg} µs/msg, redis ${res.redisCpuUsPerMsg} µs/msg, ${res.framesPerWrite} frames/write, rss ${res.rssPerConnection} B/conn ${res.ok ? 'OK' : `FAIL: ${res.problems.join('; ')}`}`) +
            ` (${Math.round((Date.now() - t0) / 1000)} s)`,
        );
      }
    }
  }
  return runs;
}
