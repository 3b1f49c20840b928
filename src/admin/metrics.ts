import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { fanoutLatencyMetric } from './latency-metric';
import type { Broker } from '../broker/broker';
import { INSECURE_SETTING_NAMES, type InsecureSettingName } from '../security/insecure-settings';
import type { ServerStats } from '../stats';
import { uwsBuild } from '../uws/uws';
import { registerBuildInfo } from './build-info-metric';

/** Prefix of every exported metric name. */
export const METRIC_PREFIX = 'broadcaster_';

/** What the exporter reads at scrape time; a BroadcasterServer satisfies it. */
export interface MetricsSource {
  /** Process counters, incremented on the hot path. */
  readonly stats: Readonly<ServerStats>;
  /** Open WebSocket connections. */
  readonly connections: number;
  /** The broker, for its kind, readiness and channel count. */
  readonly broker: Pick<Broker, 'kind' | 'isReady' | 'subscribedChannels'>;
  /** Why the process is not ready, or null. */
  notReadyReason(): string | null;
  /** Bytes queued in user space for all connections right now. */
  bufferedBytes(): number;
  /** Insecure settings in force (docs/SECURITY.md). */
  readonly insecureSettings: ReadonlyArray<{ readonly name: InsecureSettingName }>;
}

type CounterSpec = [name: string, help: string, field: keyof ServerStats];

function snakeCase(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Monotonic counters taken straight from ServerStats. */
const COUNTERS: readonly CounterSpec[] = [
  ['connections_opened_total', 'WebSocket connections opened since start.', 'connectionsOpened'],
  ['connections_closed_total', 'WebSocket connections closed since start.', 'connectionsClosed'],
  ['handshakes_refused_total', 'WebSocket handshakes refused (bad channels, shutting down).', 'handshakesRefused'],
  ['commands_in_total', 'Command frames received from clients.', 'commandsIn'],
  ['bytes_in_total', 'Bytes of command frames received from clients.', 'bytesIn'],
  ['command_errors_total', 'Commands answered with an error reply.', 'commandErrors'],
  ['internal_errors_total', 'Commands that failed unexpectedly: answered with error 500, the error is in the log at level error.', 'internalErrors'],
  ['publish_failures_total', 'Publications refused because the broker did not accept them.', 'publishFailures'],
  ['broker_messages_total', 'Publications received from the broker and fanned out (once per process).', 'fanoutMessages'],
  ['invalid_envelopes_total', 'Publications from the broker dropped because they were not valid envelopes.', 'invalidEnvelopes'],
  ['messages_out_total', 'Publication frames handed to local subscribers (broker messages x local subscribers).', 'framesOut'],
  ['bytes_out_total', 'Bytes of publication frames handed to local subscribers.', 'bytesOut'],
  ['abnormal_closes_total', 'Connections closed without a close frame (1006): network loss, or a slow consumer on the legacy uWS build or one that did not read its backlog down within 10 s (slow consumers otherwise get 4002).', 'abnormalCloses'],
  ['broker_probe_failures_total', 'Broker connections reopened because a PING probe went unanswered (stalled Redis).', 'brokerProbeFailures'],
  ['gaps_detected_total', 'Offset gaps seen on publications arriving from the broker (missed by this process).', 'gapsDetected'],
  ['gaps_repaired_total', 'Offset gaps filled from history before newer publications were forwarded.', 'gapsRepaired'],
  ['resyncs_sent_total', 'Resync notices sent because publications could not be repaired (history lost, epoch changed).', 'resyncsSent'],
  ['duplicates_dropped_total', 'Publications from the broker dropped because their offset was already forwarded.', 'duplicatesDropped'],
  ['slow_consumer_drops_total', 'Drop events of uWS for a client whose backlog passed --max-backpressure: one per client and event-loop turn (uWS skips the client\'s later frames of that turn with it, uncounted; with --fanout-window-ms 0 a turn carries one publication). The drop policy goes on; the close policy closes the client. Current uWS build only (the legacy build has no dropped handler).', 'slowConsumerDrops'],
  ['recoveries_succeeded_total', 'Subscriptions with a position whose missed publications were all delivered.', 'recoveriesSucceeded'],
  ['recoveries_failed_total', 'Subscriptions with a position that could not be recovered (history too short, epoch changed).', 'recoveriesFailed'],
  ['publications_recovered_total', 'Publications delivered from history by recoveries.', 'publicationsRecovered'],
  ['broker_reconnects_total', 'Times the broker became ready again after a disconnection.', 'brokerReconnects'],
];

const COUNTER_FIELDS: ReadonlyArray<keyof ServerStats> = COUNTERS.map(([, , field]) => field);

/**
 * A prom-client registry exporting one process: the ServerStats counters, gauges read at scrape
 * time, and prom-client's default process metrics (event-loop lag, memory, CPU, fds), all
 * prefixed `broadcaster_`.
 */
export function createMetricsRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  registerBuildInfo(registry, METRIC_PREFIX, uwsBuild);
  for (const [name, help, field] of COUNTERS) {
    new Counter({
      name: METRIC_PREFIX + name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(source.stats[field] as number);
      },
    });
  }
  // Counters added to ServerStats later are exported too, named after their field.
  const covered = new Set(['publishedWs', 'publishedHttp', 'subscriptions', ...COUNTER_FIELDS]);
  for (const field of Object.keys(source.stats) as Array<keyof ServerStats>) {
    if (covered.has(field) || typeof source.stats[field] !== 'number') continue;
    const value = (): number => source.stats[field] as number;
    new Counter({
      name: `${METRIC_PREFIX}${snakeCase(field)}_total`,
      help: `ServerStats.${field} (see src/stats.ts).`,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  }
  new Counter({
    name: `${METRIC_PREFIX}messages_in_total`,
    help: 'Publications accepted from publishers, by transport (ws, http); repeats of an idempotency key and publications sent straight to Redis are not counted.',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ transport: 'ws' }, source.stats.publishedWs);
      this.inc({ transport: 'http' }, source.stats.publishedHttp);
    },
  });
  const gauges: Array<[string, string, () => number]> = [
    ['connections', 'Open WebSocket connections.', () => source.connections],
    ['subscriptions', 'Channel subscriptions held by connections.', () => source.stats.subscriptions],
    ['channels', 'Channels this process receives from the broker (channels with at least one local subscriber).', () => source.broker.subscribedChannels().size],
    ['backpressure_bytes', 'Bytes queued in user space for all connections (sum of their send backlogs).', () => source.bufferedBytes()],
    ['ready', '1 when the process takes traffic (/readyz answers 200), else 0.', () => (source.notReadyReason() === null ? 1 : 0)],
  ];
  for (const [name, help, read] of gauges) {
    new Gauge({
      name: METRIC_PREFIX + name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  }
  new Gauge({
    name: `${METRIC_PREFIX}insecure_settings`,
    help: 'Insecure settings in force, by setting: 1 in force, 0 not (docs/SECURITY.md, "Secure defaults"); each was logged as a warning at start.',
    labelNames: ['setting'],
    registers: [registry],
    collect() {
      const inForce = new Set(source.insecureSettings.map((s) => s.name));
      for (const setting of INSECURE_SETTING_NAMES) this.set({ setting }, inForce.has(setting) ? 1 : 0);
    },
  });
  registry.registerMetric(fanoutLatencyMetric(source.stats));
  new Gauge({
    name: `${METRIC_PREFIX}broker_up`,
    help: '1 while the broker connection(s) are up (for Redis: subscriber and publisher connected), else 0.',
    labelNames: ['broker'],
    registers: [registry],
    collect() {
      this.set({ broker: source.broker.kind }, source.broker.isReady() ? 1 : 0);
    },
  });
  return registry;
}
