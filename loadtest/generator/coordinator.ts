/**
 * Generator coordinator: forks worker processes that open the subscribers, forks the publisher
 * driver, prints a progress line per second, then collects per-subscriber delivery figures and
 * latency histograms and returns one LoadResult. Every child it forks is killed by PID at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { ClientKind } from './client-types.js';
import type { FromWorker, ProgressMessage, ReportMessage, ToWorker, WorkerConfig } from './messages.js';
import { addCounts, emptyCounts } from './sequence-tracker.js';
import { addBreakdown, emptyBreakdown } from './loss-breakdown.js';
import { QuietDetector } from './quiet-detector.js';
import { collectReports, waitForDeliveries } from './collect-reports.js';
import { createHistogram, decodeHistogram, mergeEncoded, summarize } from './latency.js';
import { buildResult, mergeReasons, type LoadResult, type ProgressSample, type RecountFigures } from './result.js';
import type { PublisherOptions, PublisherResult } from '../publisher/driver.js';
import type { FromPublisher, ToPublisher } from '../publisher/main.js';
import { nowMs } from '../protocol/payload.js';

/** Most subscribers one worker opens (each is one fd; a process may hold 20k). */
export const MAX_PER_WORKER = 15_000;

/** Progress reports (one a second) each worker must send without a change before deliveries count as stopped. */
export const QUIET_REPORTS = 2;

/** Default longest further wait before recounting a run that lost messages, ms. */
export const DEFAULT_RECOUNT_MS = 15_000;

/** Load run options. */
export interface LoadOptions {
  /** free-text name of the run, copied into the result */
  label: string;
  /** server host */
  host: string;
  /** server port */
  port: number;
  /** several server ports: subscriber g connects to ports[g % ports.length] (default: `port` only) */
  ports?: number[];
  /** WebSocket path (or socket.io path) */
  path: string;
  /** extra URL query parameters for every subscriber, e.g. `token=<jwt>` (default none) */
  query?: string;
  /** subscriber client */
  client: ClientKind;
  /** total subscribers */
  subscribers: number;
  /** channel names; subscriber g listens to channels[g % channels.length] */
  channels: string[];
  /** worker processes (raised to fit MAX_PER_WORKER) */
  workers: number;
  /** source addresses (empty: kernel's choice) */
  sourceAddresses: string[];
  /** subscribers per source address */
  perAddress: number;
  /** explicit source ports base + (g % perAddress) with source addresses (default 0: kernel's choice) */
  localPortBase?: number;
  /** handshakes in flight per worker */
  connectConcurrency: number;
  /** handshake timeout per subscriber, ms */
  handshakeTimeoutMs: number;
  /** retries per subscriber after a refused, reset or timed-out connect (default 0) */
  connectRetries?: number;
  /** first retry back-off, ms, doubling per attempt with jitter (default 500) */
  retryBackoffMs?: number;
  /** give up the whole connect phase after this many ms */
  connectPhaseMs: number;
  /** wait between all-connected and the first publish, ms */
  settleMs: number;
  /** longest wait for in-flight deliveries after the last publish, ms */
  drainMs: number;
  /**
   * When messages were lost at the end of the drain: longest further wait before counting again,
   * so late arrivals are told from lost ones (default DEFAULT_RECOUNT_MS; 0: no recount)
   */
  recountMs?: number;
  /** publisher settings (channels are taken from `channels`) */
  publisher: Omit<PublisherOptions, 'channels'>;
  /** print progress lines */
  quiet: boolean;
}

/** Optional callbacks at phase boundaries (the comparison runner samples CPU and RSS there). */
export interface LoadHooks {
  /** all subscribers opened or failed, before publishing */
  onConnected?(): Promise<void> | void;
  /** right before the first publish */
  onPublishStart?(): Promise<void> | void;
  /** deliveries drained (or drain timed out), before final figures */
  onDrained?(): Promise<void> | void;
  /** every figure taken (a recount included), before the workers close their subscribers */
  onCounted?(): Promise<void> | void;
}

function killAll(children: ChildProcess[]): void {
  for (const c of children) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Splits `total` subscribers over workers, each at most MAX_PER_WORKER. */
export function planWorkers(total: number, requested: number): number[] {
  const n = Math.max(1, requested, Math.ceil(total / MAX_PER_WORKER));
  const base = Math.floor(total / n);
  const extra = total % n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}

/** Runs one load test and returns its figures. */
export async function runLoad(o: LoadOptions, hooks: LoadHooks = {}): Promise<LoadResult> {
  const children: ChildProcess[] = [];
  const onExit = (): void => killAll(children);
  process.once('exit', onExit);
  try {
    return await runInner(o, hooks, children);
  } finally {
    killAll(children);
    process.removeListener('exit', onExit);
  }
}

async function runInner(o: LoadOptions, hooks: LoadHooks, children: ChildProcess[]): Promise<LoadResult> {
  const log = (s: string): void => {
    if (!o.quiet) process.stdout.write(`${s}\n`);
  };
  const counts = planWorkers(o.subscribers, o.workers);
  const progress = new Map<number, ProgressMessage>();
  /** reports of the current `finish` round, by worker */
  const reports = new Map<number, ReportMessage>();
  const connected = new Set<number>();
  const workers: ChildProcess[] = [];
  const quiet = new QuietDetector(counts.length, QUIET_REPORTS);
  let first = 0;
  counts.forEach((count, workerId) => {
    const child = fork(path.join(__dirname, 'worker.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // e.g. LOADTEST_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile workers
      execArgv: (process.env.LOADTEST_WORKER_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
    });
    children.push(child);
    workers.push(child);
    child.on('message', (m: FromWorker) => {
      if (m.type === 'progress') {
        progress.set(m.workerId, m);
        quiet.observe(m.workerId, m.received);
      } else if (m.type === 'connected') connected.add(m.workerId);
      else if (m.type === 'report') reports.set(m.workerId, m);
    });
    const config: WorkerConfig = {
      workerId,
      client: o.client,
      host: o.host,
      port: o.port,
      ports: o.ports ?? [],
      path: o.path,
      query: o.query ?? '',
      firstSubscriber: first,
      count,
      channels: o.channels,
      sourceAddresses: o.sourceAddresses,
      perAddress: o.perAddress,
      localPortBase: o.sourceAddresses.length > 0 ? (o.localPortBase ?? 0) : 0,
      connectConcurrency: o.connectConcurrency,
      timeoutMs: o.handshakeTimeoutMs,
      connectRetries: o.connectRetries ?? 0,
      retryBackoffMs: o.retryBackoffMs ?? 500,
      maxPublishers: Math.max(1, o.publisher.publisherId + 1),
      progressMs: 1000,
    };
    first += count;
    child.send({ type: 'start', config } satisfies ToWorker);
  });

  // progress line once per second, from the workers' latest cumulative figures
  const t0 = performance.now();
  const samples: ProgressSample[] = [];
  let lastReceived = 0;
  let lastSent = 0;
  let pubResult: PublisherResult | undefined;
  let phase = 'connect';
  const sum = (k: 'opened' | 'failed' | 'closed' | 'received' | 'missing' | 'duplicates'): number => {
    let s = 0;
    for (const p of progress.values()) s += p[k];
    return s;
  };
  const ticker = setInterval(() => {
    const interval = createHistogram();
    for (const p of progress.values()) if (p.histogram !== '') interval.add(decodeHistogram(p.histogram));
    for (const p of progress.values()) p.histogram = '';
    const lat = summarize(interval);
    const received = sum('received');
    const sent = pubResult?.sent ?? 0;
    const t = (performance.now() - t0) / 1000;
    const sample: ProgressSample = {
      t: Math.round(t * 10) / 10,
      phase,
      opened: sum('opened'),
      failed: sum('failed'),
      closed: sum('closed'),
      publishedPerSec: sent - lastSent,
      deliveredPerSec: received - lastReceived,
      missing: sum('missing'),
      duplicates: sum('duplicates'),
      p50: lat.p50,
      p99: lat.p99,
    };
    samples.push(sample);
    lastReceived = received;
    lastSent = sent;
    log(
      `[${sample.t.toFixed(0).padStart(4)}s ${phase.padEnd(7)}] subs ${sample.opened}/${o.subscribers}` +
        (sample.failed > 0 ? ` failed ${sample.failed}` : '') +
        (sample.closed > 0 ? ` closed ${sample.closed}` : '') +
        ` | pub ${sample.publishedPerSec}/s | recv ${fmtRate(sample.deliveredPerSec)}/s` +
        ` | missing ${sample.missing} dup ${sample.duplicates} | p50 ${lat.p50}ms p99 ${lat.p99}ms`,
    );
  }, 1000);

  try {
    // 1. connect
    const connectStart = performance.now();
    while (connected.size < workers.length) {
      if (performance.now() - connectStart > o.connectPhaseMs) {
        log(`connect phase timed out after ${o.connectPhaseMs} ms`);
        break;
      }
      if (workers.some((w) => w.exitCode !== null)) throw new Error('a generator worker exited early');
      await sleep(50);
    }
    const connectMs = performance.now() - connectStart;
    await hooks.onConnected?.();
    phase = 'settle';
    await sleep(o.settleMs);

    // 2. publish
    const pub = fork(path.join(__dirname, '..', 'publisher', 'main.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, LOADTEST_PUBLISHER_CHILD: '1' },
    });
    children.push(pub);
    let pubError: string | undefined;
    let pubDone = false;
    let started = false;
    pub.on('message', (m: FromPublisher) => {
      if (m.type === 'started') started = true;
      else if (m.type === 'progress') pubResult = m.result;
      else if (m.type === 'done') {
        pubResult = m.result;
        pubDone = true;
      } else if (m.type === 'error') pubError = m.message;
    });
    await hooks.onPublishStart?.();
    phase = 'publish';
    const publishStart = performance.now();
    const publishStartAt = nowMs();
    pub.send({ type: 'start', options: { ...o.publisher, channels: o.channels } } satisfies ToPublisher);
    const hardStop = o.publisher.durationMs + 30_000;
    while (!pubDone && pubError === undefined) {
      if (performance.now() - publishStart > hardStop) {
        pub.send({ type: 'stop' } satisfies ToPublisher);
        pubError = 'publisher did not finish in time';
        break;
      }
      if (pub.exitCode !== null) {
        pubError = 'publisher exited';
        break;
      }
      await sleep(20);
    }
    if (pubError !== undefined && !started) throw new Error(`publisher failed: ${pubError}`);
    const publishMs = performance.now() - publishStart;
    const result = pubResult;
    if (result === undefined) throw new Error(`publisher gave no result: ${pubError ?? ''}`);

    // 3. drain: until everything expected arrived, every worker reports no change, or drainMs
    phase = 'drain';
    // a publish counts as expected unless it failed explicitly (unacknowledged ones may have landed)
    const expectedPerChannel = result.sentPerChannel.map((n, ch) => n - (result.failedPerChannel[ch] ?? 0));
    const expectedTotal = expectedDeliveries(counts, o.channels.length, expectedPerChannel);
    // of those, deliveries of publications the publisher never had an answer for (still queued, or dropped, upstream)
    const unansweredPerChannel = expectedPerChannel.map((n, ch) => Math.max(0, n - (result.ackedPerChannel[ch] ?? 0)));
    const unanswered = {
      publications: unansweredPerChannel.reduce((a, b) => a + b, 0),
      deliveries: expectedDeliveries(counts, o.channels.length, unansweredPerChannel),
    };
    const drainStart = performance.now();
    // Silence from a worker means it is busy reading, not that nothing arrives: the drain ends
    // once every worker itself reported no change (QuietDetector), not after wall-clock silence.
    quiet.reset();
    const drainEnd = await waitForDeliveries(quiet, () => sum('received') >= expectedTotal, o.drainMs);
    const drainMs = performance.now() - drainStart;
    await hooks.onDrained?.();

    // 4. final figures, as they stand at the end of the window
    phase = 'report';
    const expected = expectedPerChannel.map((n) => {
      const row = new Array<number>(o.publisher.publisherId + 1).fill(0);
      row[o.publisher.publisherId] = n;
      return row;
    });
    const all = await collectReports(workers, reports, expected, 0);
    const delivery = all.reduce((acc, r) => addCounts(acc, r.counts), emptyCounts());
    const latency = summarize(mergeEncoded(all.map((r) => r.histogram)));
    // deliveries are counted from the first publish to the last payload counted (the workers' own clocks)
    const lastAt = all.reduce((a, r) => Math.max(a, r.lastReceivedAt), 0);
    const deliveryMs = lastAt > publishStartAt ? lastAt - publishStartAt : publishMs;

    // 5. anything lost? wait once more and recount: what arrives now was late, not lost
    let recount: RecountFigures | null = null;
    const recountMs = o.recountMs ?? DEFAULT_RECOUNT_MS;
    if (delivery.lost > 0 && recountMs > 0 && all.length === workers.length) {
      phase = 'recount';
      quiet.reset();
      const waitStart = performance.now();
      const end = await waitForDeliveries(quiet, () => sum('received') >= expectedTotal, recountMs);
      const waitedMs = Math.round(performance.now() - waitStart);
      const again = await collectReports(workers, reports, expected, 1);
      if (again.length === workers.length) {
        const lost = again.reduce((a, r) => a + r.counts.lost, 0);
        recount = {
          waitedMs,
          end,
          lost,
          late: Math.max(0, delivery.lost - lost),
          loss: again.reduce((acc, r) => addBreakdown(acc, r.loss), emptyBreakdown()),
          closedEarly: again.reduce((a, r) => a + r.closed, 0),
          closeReasons: mergeReasons(again.map((r) => r.closeReasons)),
        };
      }
    }
    await hooks.onCounted?.();
    for (const w of workers) if (w.connected) w.send({ type: 'exit' } satisfies ToWorker);
    const exitStart = performance.now();
    while (workers.some((w) => w.exitCode === null && w.signalCode === null) && performance.now() - exitStart < 3000) {
      await sleep(20);
    }
    return buildResult({
      options: o,
      workerCount: workers.length,
      reports: all,
      missingReports: workers.length - all.length,
      delivery,
      expectedTotal,
      latency,
      publisher: result,
      publisherError: pubError,
      samples,
      timings: { connectMs, publishMs, drainMs, deliveryMs },
      drainEnd,
      recount,
      unanswered,
    });
  } finally {
    clearInterval(ticker);
  }
}

/** Deliveries expected: for each subscriber, the messages acknowledged on its channel. */
export function expectedDeliveries(workerCounts: readonly number[], channels: number, ackedPerChannel: readonly number[]): number {
  const total = workerCounts.reduce((a, b) => a + b, 0);
  let sum = 0;
  for (let ch = 0; ch < channels; ch++) {
    // subscribers g in [0, total) with g % channels === ch
    const subs = Math.floor(total / channels) + (ch < total % channels ? 1 : 0);
    sum += subs * (ackedPerChannel[ch] ?? 0);
  }
  return sum;
}

/** 1234567 -> "1.23M". */
export function fmtRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}
