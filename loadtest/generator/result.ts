/**
 * The result of one load run: its JSON shape, how it is assembled from worker reports, the
 * pass/fail verdict and the human summary table.
 */
import type { ReportMessage } from './messages.js';
import type { DeliveryCounts } from './sequence-tracker.js';
import { addBreakdown, emptyBreakdown, type LossBreakdown } from './loss-breakdown.js';
import type { LatencySummary } from './latency.js';
import type { PublisherResult } from '../publisher/driver.js';
import type { LoadOptions } from './coordinator.js';

/** One progress line, as recorded. */
export interface ProgressSample {
  /** seconds since start */
  t: number;
  /** connect | settle | publish | drain | report */
  phase: string;
  /** subscribers opened */
  opened: number;
  /** subscribers failed */
  failed: number;
  /** subscribers closed early */
  closed: number;
  /** publishes sent in the last second */
  publishedPerSec: number;
  /** payloads delivered in the last second */
  deliveredPerSec: number;
  /** sequence numbers missing so far */
  missing: number;
  /** duplicates so far */
  duplicates: number;
  /** latency p50 of the last second, ms */
  p50: number;
  /** latency p99 of the last second, ms */
  p99: number;
}

/** How a wait for deliveries ended: all expected arrived, the workers reported no change, or the time limit. */
export type DrainEnd = 'complete' | 'quiet' | 'timeout';

/** A second count after a further wait, made when the first one found messages missing. */
export interface RecountFigures {
  /** how long the further wait lasted, ms */
  waitedMs: number;
  /** how it ended */
  end: DrainEnd;
  /** messages still missing */
  lost: number;
  /** messages missing at the first count that arrived during the wait (late, not lost) */
  late: number;
  /** where the still missing ones are */
  loss: LossBreakdown;
  /** subscribers closed early by then */
  closedEarly: number;
  /** their close reasons */
  closeReasons: Record<string, number>;
}

/** The generator's own view of where messages went missing. */
export interface GeneratorLossView {
  /** how the drain window ended */
  drainEnd: DrainEnd;
  /** where the loss counted at the end of the window is */
  atWindowEnd: LossBreakdown;
  /** the recount after a further wait (null: nothing was lost, or no recount) */
  recount: RecountFigures | null;
  /** longest interval between two progress reports of one worker, ms (a worker busy reading a backlog sends none) */
  maxProgressGapMs: number;
  /** shortest time between a worker's last payload and its first report, ms (small: still receiving when counting stopped) */
  quietAtEndMs: number;
  /**
   * Publications sent (and expected) that the publisher never had an answer for by its end, and
   * their deliveries: the server (or Redis) had not accepted them yet, or lost them on the way in
   */
  unanswered: { publications: number; deliveries: number };
}

/** Figures of one load run (written as JSON). */
export interface LoadResult {
  /** run label */
  label: string;
  /** ISO time the result was built */
  finishedAt: string;
  /** the options used */
  options: LoadOptions;
  /** generator worker processes */
  workers: number;
  /** subscriber connections */
  connections: {
    target: number;
    opened: number;
    failed: number;
    closedEarly: number;
    failReasons: Record<string, number>;
    closeReasons: Record<string, number>;
    /** connect attempts that failed and were retried, by reason */
    retryReasons: Record<string, number>;
  };
  /** publisher figures */
  publisher: PublisherResult & { error?: string };
  /** delivery accounting over opened subscribers */
  delivery: DeliveryCounts & {
    expected: number;
    subscribersWithLoss: number;
    maxLossPerSubscriber: number;
    minPerSubscriber: number;
    maxPerSubscriber: number;
    malformed: number;
    otherFrames: number;
  };
  /** where the lost messages are, and whether they arrived later */
  loss: GeneratorLossView;
  /** publish-to-receive latency, ms */
  latency: LatencySummary;
  /** rates, per second (delivered: over the first publish .. last delivery window) */
  rates: { offered: number; published: number; delivered: number; peakDelivered: number };
  /** phase durations, ms; deliveryMs runs from the first publish to the last delivery seen */
  timings: { connectMs: number; publishMs: number; drainMs: number; deliveryMs: number };
  /** generator worker CPU time per delivered message, µs (a saturated generator shows here) */
  generatorCpuUsPerMessage: number;
  /** true when every subscriber opened and got every message exactly once, in order */
  ok: boolean;
  /** why ok is false */
  problems: string[];
  /** per-second progress */
  progress: ProgressSample[];
}

/** Inputs of buildResult. */
export interface ResultInputs {
  options: LoadOptions;
  workerCount: number;
  reports: ReportMessage[];
  missingReports: number;
  delivery: DeliveryCounts;
  expectedTotal: number;
  latency: LatencySummary;
  publisher: PublisherResult;
  publisherError: string | undefined;
  samples: ProgressSample[];
  timings: { connectMs: number; publishMs: number; drainMs: number; deliveryMs: number };
  /** how the drain window ended */
  drainEnd: DrainEnd;
  /** the recount, when one was made */
  recount: RecountFigures | null;
  /** expected publications without an answer, and their deliveries */
  unanswered: { publications: number; deliveries: number };
}

/** Sums reason counts. */
export function mergeReasons(list: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of list) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Assembles a LoadResult and its verdict. */
export function buildResult(i: ResultInputs): LoadResult {
  const r = i.reports;
  const opened = r.reduce((a, x) => a + x.opened, 0);
  const failed = r.reduce((a, x) => a + x.failed, 0);
  const closed = r.reduce((a, x) => a + x.closed, 0);
  const malformed = r.reduce((a, x) => a + x.malformed, 0);
  const problems: string[] = [];
  if (i.missingReports > 0) problems.push(`${i.missingReports} worker(s) sent no report`);
  if (opened < i.options.subscribers) problems.push(`${i.options.subscribers - opened} subscriber(s) never opened`);
  if (closed > 0) problems.push(`${closed} subscriber(s) closed early`);
  if (i.delivery.lost > 0) problems.push(`${i.delivery.lost} message(s) lost`);
  if (i.delivery.duplicates > 0) problems.push(`${i.delivery.duplicates} duplicate(s)`);
  // With several HTTP requests in flight the publisher itself may reorder a channel's publications.
  if (i.delivery.reordered > 0 && (i.options.publisher.httpInFlight ?? 0) === 0) problems.push(`${i.delivery.reordered} reordered`);
  if (i.delivery.unexpected > 0) problems.push(`${i.delivery.unexpected} unexpected message(s)`);
  if (malformed > 0) problems.push(`${malformed} malformed frame(s)`);
  if (i.publisher.failed > 0) problems.push(`${i.publisher.failed} publish(es) failed`);
  if (i.publisher.acked === 0) problems.push('nothing was published');
  if (i.publisherError !== undefined) problems.push(`publisher: ${i.publisherError}`);
  const publishSec = i.timings.publishMs / 1000;
  const deliverySec = Math.max(i.timings.deliveryMs, i.timings.publishMs) / 1000;
  const workerCpu = r.reduce((a, x) => a + x.cpuUs, 0);
  const publishing = i.samples.filter((s) => s.phase === 'publish' || s.phase === 'drain');
  return {
    label: i.options.label,
    finishedAt: new Date().toISOString(),
    options: i.options,
    workers: i.workerCount,
    connections: {
      target: i.options.subscribers,
      opened,
      failed,
      closedEarly: closed,
      failReasons: mergeReasons(r.map((x) => x.failReasons)),
      closeReasons: mergeReasons(r.map((x) => x.closeReasons)),
      retryReasons: mergeReasons(r.map((x) => x.retryReasons ?? {})),
    },
    publisher: i.publisherError !== undefined ? { ...i.publisher, error: i.publisherError } : i.publisher,
    delivery: {
      ...i.delivery,
      expected: i.expectedTotal,
      subscribersWithLoss: r.reduce((a, x) => a + x.subscribersWithLoss, 0),
      maxLossPerSubscriber: r.reduce((a, x) => Math.max(a, x.maxLoss), 0),
      minPerSubscriber: r.length === 0 ? 0 : Math.min(...r.map((x) => x.minReceived)),
      maxPerSubscriber: r.reduce((a, x) => Math.max(a, x.maxReceived), 0),
      malformed,
      otherFrames: r.reduce((a, x) => a + x.other, 0),
    },
    loss: {
      drainEnd: i.drainEnd,
      atWindowEnd: r.reduce((acc, x) => addBreakdown(acc, x.loss), emptyBreakdown()),
      recount: i.recount,
      maxProgressGapMs: r.reduce((a, x) => Math.max(a, x.maxProgressGapMs), 0),
      quietAtEndMs:
        r.length === 0 ? 0 : Math.round(Math.min(...r.map((x) => (x.lastReceivedAt > 0 ? x.reportedAt - x.lastReceivedAt : Number.POSITIVE_INFINITY)))),
      unanswered: i.unanswered,
    },
    latency: i.latency,
    rates: {
      offered: i.options.publisher.rate,
      published: publishSec > 0 ? Math.round(i.publisher.acked / publishSec) : 0,
      delivered: deliverySec > 0 ? Math.round(i.delivery.received / deliverySec) : 0,
      peakDelivered: publishing.reduce((a, s) => Math.max(a, s.deliveredPerSec), 0),
    },
    timings: {
      connectMs: Math.round(i.timings.connectMs),
      publishMs: Math.round(i.timings.publishMs),
      drainMs: Math.round(i.timings.drainMs),
      deliveryMs: Math.round(i.timings.deliveryMs),
    },
    generatorCpuUsPerMessage: i.delivery.received > 0 ? Math.round((workerCpu / i.delivery.received) * 1000) / 1000 : 0,
    ok: problems.length === 0,
    problems,
    progress: i.samples,
  };
}

/** A two-column summary table of one result. */
export function formatSummary(res: LoadResult): string {
  const d = res.delivery;
  const l = res.latency;
  const rows: [string, string][] = [
    ['run', res.label],
    [
      'subscribers',
      `${res.connections.opened}/${res.connections.target} opened, ${res.connections.failed} failed, ${res.connections.closedEarly} closed early (${res.workers} workers)`,
    ],
    ['channels', String(res.options.channels.length)],
    [
      'published',
      `${res.publisher.acked} acked of ${res.publisher.sent} sent via ${res.options.publisher.via}, ${res.rates.published}/s (offered ${res.rates.offered}/s), ${res.options.publisher.size} B`,
    ],
    ['delivered', `${d.received} of ${d.expected} expected, ${res.rates.delivered}/s (peak ${res.rates.peakDelivered}/s)`],
    ['per subscriber', `min ${d.minPerSubscriber} max ${d.maxPerSubscriber}`],
    ['lost', `${d.lost} (${d.subscribersWithLoss} subscribers, max ${d.maxLossPerSubscriber} each)`],
    ...(d.lost > 0 ? ([['where', describeGeneratorLoss(res.loss)]] as [string, string][]) : []),
    ['duplicates', String(d.duplicates)],
    ['reordered', String(d.reordered)],
    ['generator cpu', `${res.generatorCpuUsPerMessage} µs per delivered message (all workers)`],
    ['latency ms', `p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  p99.9 ${l.p999}  max ${l.max}  (n=${l.count})`],
    ['verdict', res.ok ? 'OK' : `FAIL: ${res.problems.join('; ')}`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** One line on where the generator saw the loss and whether it arrived later. */
export function describeGeneratorLoss(v: GeneratorLossView): string {
  const b = v.atWindowEnd;
  const parts = [
    `${b.atTail} after the last message of ${b.openWithLoss} open subscribers (counted when the drain ended)`,
    `${b.inGaps} in gaps (${b.openWithGaps} subscribers)`,
    `${b.onClosed} on ${b.closedWithLoss} subscribers closed early`,
    `drain ended ${v.drainEnd}`,
    `worker progress gap up to ${v.maxProgressGapMs} ms`,
  ];
  const rc = v.recount;
  if (rc !== null) parts.push(`recount after ${rc.waitedMs} ms (${rc.end}): ${rc.late} arrived late, ${rc.lost} still missing`);
  if (v.unanswered.publications > 0) parts.push(`${v.unanswered.publications} publications unanswered at the publisher's end`);
  return parts.join('; ');
}
