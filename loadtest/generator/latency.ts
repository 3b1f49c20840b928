/**
 * Publish-to-receive latency histograms (HdrHistogram, values in microseconds): creation,
 * transport between processes as compressed base64, merging and a summary in milliseconds.
 */
import * as hdr from 'hdr-histogram-js';

/** The histogram type used throughout the load tools. */
export type LatencyHistogram = hdr.Histogram;

/** Highest latency recorded exactly (60 s in µs); larger values are clamped. */
export const MAX_LATENCY_US = 60_000_000;

/** Creates an empty latency histogram (1 µs .. 60 s, 3 significant digits). */
export function createHistogram(): LatencyHistogram {
  return hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_LATENCY_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** Records a latency given in milliseconds (negative clock skew clamps to 0). */
export function recordMs(h: LatencyHistogram, ms: number): void {
  let us = Math.round(ms * 1000);
  if (us < 0) us = 0;
  else if (us > MAX_LATENCY_US) us = MAX_LATENCY_US;
  h.recordValue(us);
}

/** Records `count` equal latencies given in milliseconds. */
export function recordMsWithCount(h: LatencyHistogram, ms: number, count: number): void {
  let us = Math.round(ms * 1000);
  if (us < 0) us = 0;
  else if (us > MAX_LATENCY_US) us = MAX_LATENCY_US;
  h.recordValueWithCount(us, count);
}

/** Serialises a histogram for IPC (compressed base64, the HdrHistogram interchange format). */
export function encodeHistogram(h: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Decodes a histogram produced by encodeHistogram. */
export function decodeHistogram(encoded: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** Merges encoded histograms (from several workers) into one new histogram. */
export function mergeEncoded(encoded: readonly string[]): LatencyHistogram {
  const total = createHistogram();
  for (const e of encoded) {
    if (e === '') continue;
    total.add(decodeHistogram(e));
  }
  return total;
}

/** Latency summary in milliseconds. */
export interface LatencySummary {
  /** number of recorded values */
  count: number;
  /** median, ms */
  p50: number;
  /** 90th percentile, ms */
  p90: number;
  /** 99th percentile, ms */
  p99: number;
  /** 99.9th percentile, ms */
  p999: number;
  /** maximum, ms */
  max: number;
  /** mean, ms */
  mean: number;
}

/** Summarises a histogram in milliseconds (all zero when empty). */
export function summarize(h: LatencyHistogram): LatencySummary {
  const count = h.totalCount;
  if (count === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    count,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: Math.round(h.mean) / 1000,
  };
}
