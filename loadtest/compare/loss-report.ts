/**
 * The comparison runner's loss report: beside each row's "lost", who lost them over the row's
 * runs, and one line per lossy run with what the generator saw and what the servers and Redis
 * reported.
 */
import type { BehindSide, LossCause, LossCauseKind } from '../loss/attribute-loss.js';
import type { SystemRun } from './run-compare.js';
import { describeEvidence } from '../loss/loss-probe.js';
import { describeGeneratorLoss } from '../generator/result.js';

/** Short words per cause kind for the summary tables (late and in-flight: who fell behind). */
const SHORT: Record<Exclude<LossCauseKind, 'late' | 'in-flight'>, string> = {
  unanswered: 'publications not accepted in time',
  'server-cut': 'server cut slow readers',
  closed: 'subscribers closed early',
  'server-dropped': 'server dropped frames for slow readers',
  'server-resync': 'server could not repair gaps',
  'broker-cut': "server's broker subscription cut",
  unexplained: 'unexplained',
};

const BEHIND: Record<BehindSide, string> = {
  generator: 'generator fell behind',
  server: 'server fell behind',
  both: 'generator and server fell behind',
  unknown: 'delivery fell behind',
};

/** The short label of a cause. */
export function shortLabel(c: LossCause): string {
  if (c.kind === 'late' || c.kind === 'in-flight') return BEHIND[c.side ?? 'unknown'];
  return SHORT[c.kind];
}

/**
 * The causes of a row's loss over its runs, largest first: "generator fell behind 458495
 * (1 of 3 runs)"; "" when nothing was lost.
 */
export function summarizeCauses(runs: readonly Pick<SystemRun, 'loss' | 'error'>[]): string {
  const good = runs.filter((r) => r.error === undefined);
  const byLabel = new Map<string, { count: number; runs: number }>();
  for (const r of good) {
    const seen = new Set<string>();
    for (const c of r.loss.causes) {
      const label = shortLabel(c);
      const entry = byLabel.get(label) ?? { count: 0, runs: 0 };
      entry.count += c.count;
      if (!seen.has(label)) entry.runs++;
      seen.add(label);
      byLabel.set(label, entry);
    }
  }
  return [...byLabel.entries()]
    .sort((a, b) => b[1].count - a[1].count)
    .map(([label, e]) => `${label} ${e.count} (${e.runs} of ${good.length} run${good.length === 1 ? '' : 's'})`)
    .join('; ');
}

/** What the generator saw in one run, in words. */
export function generatorText(r: SystemRun): string {
  const res = r.result;
  if (res === undefined) return '–';
  const reasons = Object.entries(res.connections.closeReasons)
    .map(([k, n]) => `${k} ×${n}`)
    .join(', ');
  return (
    `${res.connections.closedEarly} closed early${reasons !== '' ? ` (${reasons})` : ''}; ` +
    `${res.delivery.subscribersWithLoss} subscribers with loss (max ${res.delivery.maxLossPerSubscriber} each); ${describeGeneratorLoss(res.loss)}`
  );
}

/** What the servers, the kernel and Redis reported in one run, in words. */
export function serverText(r: SystemRun): string {
  return r.lossEvidence === undefined ? '–' : describeEvidence(r.lossEvidence);
}

/** A markdown table of every run that lost messages, or '' when none did. */
export function formatLossRuns(runs: readonly SystemRun[]): string {
  const lossy = runs.filter((r) => r.error === undefined && r.lost > 0);
  if (lossy.length === 0) return '';
  const out = [
    '\n### loss, run by run: who lost them\n',
    '| workload | system | run | lost | cause | the generator saw | the servers reported |',
    '|---|---|---:|---:|---|---|---|',
  ];
  for (const r of lossy) {
    out.push(`| ${r.workload} | ${r.label} | ${r.run + 1} | ${r.lost} | ${r.loss.verdict} | ${generatorText(r)} | ${serverText(r)} |`);
  }
  return out.join('\n');
}
