/**
 * What broadcaster processes say about messages they did not deliver: their admin `/metrics`
 * counters (slow-consumer drops and closes, gap repair, resyncs, broker reconnects) and the
 * bytes still queued for clients, read at the end of a load run and summed over processes.
 */

/** The counters of one or more broadcaster processes that bear on loss. */
export interface ServerCounters {
  /** processes whose metrics were read */
  processes: number;
  /** publications received from the broker and fanned out (once per process) */
  brokerMessages: number;
  /** publication frames handed to local subscribers */
  framesOut: number;
  /** frames uWS did not send to a client over --max-backpressure (current uWS build only) */
  slowConsumerDrops: number;
  /** connections closed without a close frame (1006): the legacy build's slow-consumer cut, or a reader that never caught up */
  abnormalCloses: number;
  /** connections closed, any reason */
  connectionsClosed: number;
  /** offset gaps seen on publications arriving from the broker */
  gapsDetected: number;
  /** gaps filled from history */
  gapsRepaired: number;
  /** resync notices sent (publications that could not be repaired) */
  resyncsSent: number;
  /** publications dropped as already forwarded */
  duplicatesDropped: number;
  /** times the broker became ready again after a disconnection */
  brokerReconnects: number;
  /** broker connections reopened after an unanswered probe */
  brokerProbeFailures: number;
  /** publications from the broker that were not valid envelopes */
  invalidEnvelopes: number;
  /** bytes queued in user space for all connections when read */
  backpressureBytes: number;
  /** processes on the legacy uWS build, which has no `dropped` handler: its drop policy drops uncounted */
  legacyBuildProcesses: number;
}

/** Metric name (without the `broadcaster_` prefix) of each counter. */
const METRICS: ReadonlyArray<[keyof ServerCounters, string]> = [
  ['brokerMessages', 'broker_messages_total'],
  ['framesOut', 'messages_out_total'],
  ['slowConsumerDrops', 'slow_consumer_drops_total'],
  ['abnormalCloses', 'abnormal_closes_total'],
  ['connectionsClosed', 'connections_closed_total'],
  ['gapsDetected', 'gaps_detected_total'],
  ['gapsRepaired', 'gaps_repaired_total'],
  ['resyncsSent', 'resyncs_sent_total'],
  ['duplicatesDropped', 'duplicates_dropped_total'],
  ['brokerReconnects', 'broker_reconnects_total'],
  ['brokerProbeFailures', 'broker_probe_failures_total'],
  ['invalidEnvelopes', 'invalid_envelopes_total'],
  ['backpressureBytes', 'backpressure_bytes'],
];

/** Zeroed counters of no process. */
export function emptyCounters(): ServerCounters {
  const c = { processes: 0, legacyBuildProcesses: 0 } as ServerCounters;
  for (const [key] of METRICS) c[key] = 0;
  return c;
}

/**
 * Values of a Prometheus text exposition by metric name, label sets summed
 * (`name{a="b"} 3` and `name 4` both count under `name`); comments and bad lines are skipped.
 */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + value);
  }
  return out;
}

/** The counters of one process from its `/metrics` text. */
export function countersFromMetrics(text: string, prefix = 'broadcaster_'): ServerCounters {
  const values = parsePrometheus(text);
  const c = emptyCounters();
  c.processes = 1;
  for (const [key, name] of METRICS) c[key] = values.get(prefix + name) ?? 0;
  if (new RegExp(`^${prefix}build_info\\{[^}]*uws_build="legacy"`, 'm').test(text)) c.legacyBuildProcesses = 1;
  return c;
}

/** Sum of several processes' counters. */
export function sumCounters(list: readonly ServerCounters[]): ServerCounters {
  const sum = emptyCounters();
  for (const c of list) {
    sum.processes += c.processes;
    sum.legacyBuildProcesses += c.legacyBuildProcesses;
    for (const [key] of METRICS) sum[key] += c[key];
  }
  return sum;
}

/** Counters of `after` minus those of `before` (servers that ran on), the gauge as in `after`. */
export function counterDelta(after: ServerCounters, before: ServerCounters | null): ServerCounters {
  if (before === null) return after;
  const d = { ...after };
  // processes and legacyBuildProcesses describe the servers, not events: taken from `after`
  for (const [key] of METRICS) if (key !== 'backpressureBytes') d[key] = Math.max(0, after[key] - before[key]);
  return d;
}

/**
 * Reads `/metrics` from each admin port on 127.0.0.1 and sums them; null when none answered
 * (a process gone, or a server without an admin listener). A server busy writing a backlog can
 * take seconds to answer, hence the long default wait.
 */
export async function scrapeCounters(adminPorts: readonly number[], timeoutMs = 20_000): Promise<ServerCounters | null> {
  const read = async (port: number): Promise<ServerCounters | null> => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
      return res.ok ? countersFromMetrics(await res.text()) : null;
    } catch {
      return null;
    }
  };
  const got = (await Promise.all(adminPorts.map(read))).filter((c): c is ServerCounters => c !== null);
  return got.length === 0 ? null : sumCounters(got);
}
