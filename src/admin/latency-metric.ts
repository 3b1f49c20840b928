import type { Metric, MetricObjectWithValues, MetricValueWithName } from 'prom-client';
import { LATENCY_BUCKETS_MS } from '../latency-histogram';
import type { ServerStats } from '../stats';

/** Name of the publish-to-fan-out latency histogram. */
export const FANOUT_LATENCY_METRIC = 'broadcaster_publish_to_fanout_seconds';

/**
 * The publish-to-fan-out latency histogram (seconds), built at scrape time from the fixed
 * buckets counted on the fan-out path, in Prometheus histogram form.
 */
export function fanoutLatencyMetric(stats: ServerStats): Metric {
  const name = FANOUT_LATENCY_METRIC;
  const help =
    'Time from a publication being stored by the broker (its clock) to its fan-out in this process. Publications without a timestamp (raw PUBLISH, channels without history) are not counted.';
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
      const h = stats.fanoutLatency;
      const values: Array<MetricValueWithName<string>> = [];
      let cumulative = 0;
      LATENCY_BUCKETS_MS.forEach((bound, i) => {
        cumulative += h.counts[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { le: bound / 1000 }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: h.count });
      values.push({ metricName: `${name}_sum`, labels: {}, value: h.sum / 1000 });
      values.push({ metricName: `${name}_count`, labels: {}, value: h.count });
      const result = { name, help, type: 'histogram', aggregator: 'sum', values };
      return Promise.resolve(result as unknown as MetricObjectWithValues<MetricValueWithName<string>>);
    },
    reset(): void {},
  };
  return metric as unknown as Metric;
}
