/**
 * Decides when deliveries have stopped, counted in the workers' own progress reports rather than
 * in the coordinator's wall-clock time. A worker busy reading a backlog can spend seconds in one
 * event-loop turn and send no progress meanwhile; silence from it means "busy", not "nothing
 * arrives". Deliveries count as stopped only once every worker has *itself* reported the same
 * received count for `quietReports` consecutive progress reports after its last change.
 */
export class QuietDetector {
  private readonly last: number[];
  private readonly unchanged: number[];

  /** `workers` workers; quiet after `quietReports` unchanged reports from each (>= 1). */
  constructor(
    workers: number,
    private readonly quietReports = 2,
  ) {
    this.last = new Array<number>(workers).fill(-1);
    this.unchanged = new Array<number>(workers).fill(0);
  }

  /** Records one progress report of `worker`: its cumulative received count. */
  observe(worker: number, received: number): void {
    if (worker < 0 || worker >= this.last.length) return;
    if (received === this.last[worker]) this.unchanged[worker]! += 1;
    else {
      this.last[worker] = received;
      this.unchanged[worker] = 0;
    }
  }

  /** Forgets what was seen: the next reports start a new quiet period (e.g. a second wait). */
  reset(): void {
    this.unchanged.fill(0);
  }

  /** True once every worker reported `quietReports` times without a change. */
  quiet(): boolean {
    return this.unchanged.every((n) => n >= this.quietReports);
  }

  /** Workers that have not (yet) reported a quiet period: still receiving, or silent because busy. */
  busyWorkers(): number[] {
    const out: number[] = [];
    this.unchanged.forEach((n, i) => {
      if (n < this.quietReports) out.push(i);
    });
    return out;
  }
}
