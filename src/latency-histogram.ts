/** Upper bounds (ms) of the publish-to-fan-out latency buckets; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

/**
 * A fixed-bucket latency histogram cheap enough for the fan-out path: one comparison loop and
 * two additions per observation, no allocation. Read by the metrics exporter at scrape time.
 */
export class LatencyHistogram {
  /** Observations per bucket (not cumulative); index LATENCY_BUCKETS_MS.length is +Inf. */
  readonly counts: number[] = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  /** Sum of all observations, in ms. */
  sum = 0;
  /** Number of observations. */
  count = 0;

  /** Records one latency in ms (negative values, from clock skew between hosts, count as 0). */
  observe(ms: number): void {
    const value = Math.max(ms, 0);
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && value > LATENCY_BUCKETS_MS[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}
