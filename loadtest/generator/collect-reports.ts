/**
 * The coordinator's end of a run: waiting for deliveries to stop (judged from the workers' own
 * progress reports, see QuietDetector) and collecting one round of the workers' final figures.
 */
import type { ChildProcess } from 'node:child_process';
import type { ReportMessage, ToWorker } from './messages.js';
import type { QuietDetector } from './quiet-detector.js';
import type { DrainEnd } from './result.js';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits until `complete()` holds, the workers report no change (see QuietDetector), or
 * `limitMs` passed; says which ended the wait.
 */
export async function waitForDeliveries(quiet: QuietDetector, complete: () => boolean, limitMs: number): Promise<DrainEnd> {
  const start = performance.now();
  while (performance.now() - start < limitMs) {
    if (complete()) return 'complete';
    if (quiet.quiet()) return 'quiet';
    await sleep(50);
  }
  return complete() ? 'complete' : 'timeout';
}

/** Asks every live worker for its figures (`round`) and waits up to 30 s for their reports. */
export async function collectReports(
  workers: readonly ChildProcess[],
  reports: Map<number, ReportMessage>,
  expected: number[][],
  round: number,
): Promise<ReportMessage[]> {
  reports.clear();
  workers.forEach((w) => {
    if (w.connected) w.send({ type: 'finish', expected, round } satisfies ToWorker);
  });
  const start = performance.now();
  const answered = (): ReportMessage[] => [...reports.values()].filter((r) => r.round === round);
  while (answered().length < workers.length && performance.now() - start < 30_000) await sleep(20);
  return answered();
}
