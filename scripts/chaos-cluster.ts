/**
 * The processes of one chaos scenario: a private redis-server on a free port and N broadcaster
 * processes (`--workers 1`, fixed ports so a restarted process comes back on the same address),
 * each with an admin port for its Prometheus counters. Every process is stopped by PID.
 */
import { freePort } from '../harness/ports';
import { scrapeMetrics } from '../test/helpers/metrics-text';
import { TestRedis } from '../harness/redis';
import { ServerProcess, type LogLine } from '../harness/broadcaster';
import { sleep } from '../test/helpers/wait';

/** Server counters summed per scenario (names without the `broadcaster_` prefix). */
export const COUNTERS = [
  'publications_recovered_total',
  'recoveries_succeeded_total',
  'recoveries_failed_total',
  'gaps_detected_total',
  'gaps_repaired_total',
  'resyncs_sent_total',
  'duplicates_dropped_total',
  'abnormal_closes_total',
  'broker_probe_failures_total',
  'broker_reconnects_total',
  'publish_failures_total',
] as const;

/** One counter name of COUNTERS. */
export type CounterName = (typeof COUNTERS)[number];

/** What a scenario asks of its processes. */
export interface ClusterOptions {
  /** Broadcaster processes. */
  servers: number;
  /** Redis with an append-only file (history survives a restart). */
  persistent: boolean;
  /** Extra redis-server arguments. */
  redisArgs: string[];
  /** Extra broadcaster arguments. */
  serverArgs: string[];
}

/** Everything started by this run that must be stopped, also on errors and SIGINT. */
const live = new Set<() => Promise<void>>();

/** Stops every process still running (servers by SIGCONT + SIGTERM/SIGKILL, Redis by SIGKILL). */
export async function stopEverything(): Promise<void> {
  const stoppers = [...live];
  live.clear();
  await Promise.allSettled(stoppers.map((stop) => stop()));
}

interface Node {
  port: number;
  adminPort: number;
  proc: ServerProcess;
  /** Counters of earlier incarnations of this node (before a restart). */
  carried: Map<CounterName, number>;
  /** Set while a stop is intended, so its exit is not reported as a crash. */
  stopping: boolean;
}

/** A private Redis and the broadcaster processes on it. */
export class ChaosCluster {
  /** Unexpected exits: "server 0 exited with 1: <stderr tail>". */
  readonly crashes: string[] = [];
  /** Log lines of every incarnation of every server, tagged with the server index. */
  readonly logs: Array<LogLine & { server: number }> = [];
  private readonly nodes: Node[] = [];

  private constructor(
    readonly redis: TestRedis,
    private readonly options: ClusterOptions,
  ) {}

  /** Starts Redis and the servers; resolves once every server is ready. */
  static async start(options: ClusterOptions): Promise<ChaosCluster> {
    const redis = await TestRedis.start({ persistent: options.persistent, args: options.redisArgs });
    const stopRedis = async (): Promise<void> => {
      redis.signal('SIGCONT');
      await redis.kill();
    };
    live.add(stopRedis);
    const cluster = new ChaosCluster(redis, options);
    for (let i = 0; i < options.servers; i++) {
      const node: Node = { port: await freePort(), adminPort: await freePort(), proc: null as unknown as ServerProcess, carried: new Map(), stopping: false };
      cluster.nodes.push(node);
      await cluster.launch(i);
    }
    return cluster;
  }

  private async launch(i: number): Promise<void> {
    const node = this.nodes[i]!;
    const args = ['--workers', '1', '--port', String(node.port), '--host', '127.0.0.1', '--admin-port', String(node.adminPort)];
    const proc = await ServerProcess.start([...args, '--redis-url', this.redis.url, ...this.options.serverArgs]);
    node.proc = proc;
    node.stopping = false;
    const stop = async (): Promise<void> => {
      proc.signal('SIGCONT');
      await proc.stop();
    };
    live.add(stop);
    void proc.exited().then((code) => {
      live.delete(stop);
      this.logs.push(...proc.logs.map((l) => ({ ...l, server: i })));
      if (!node.stopping || code !== 0)
        this.crashes.push(`server ${i} (pid ${proc.pid}) exited with ${code}${node.stopping ? ' on SIGTERM' : ''}: ${proc.stderr.slice(-500)}`);
    });
    await this.untilReady(i, 10_000);
  }

  /** Waits until server `i` answers /readyz 200. */
  async untilReady(i: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if ((await fetch(`${this.http(i)}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200) return;
      } catch {
        // not listening yet, or frozen
      }
      if (Date.now() > deadline) throw new Error(`server ${i} not ready within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** Number of servers. */
  get size(): number {
    return this.nodes.length;
  }

  /** HTTP base URL of server `i`. */
  http(i: number): string {
    return `http://127.0.0.1:${this.nodes[i]!.port}`;
  }

  /** WebSocket URL of server `i`. */
  wsUrl(i: number): string {
    return `ws://127.0.0.1:${this.nodes[i]!.port}/ws`;
  }

  /** Log lines of the running incarnation of server `i`. */
  currentLogs(i: number): LogLine[] {
    return this.nodes[i]!.proc.logs;
  }

  /** Sends a signal to server `i` by PID (SIGSTOP freezes it, SIGCONT resumes it). */
  signal(i: number, signal: NodeJS.Signals): void {
    this.nodes[i]!.proc.signal(signal);
  }

  /** Graceful restart of server `i` on the same ports: SIGTERM, wait for exit 0, start, wait ready. */
  async restart(i: number): Promise<void> {
    const node = this.nodes[i]!;
    const before = await this.scrape(i);
    for (const name of COUNTERS) node.carried.set(name, (node.carried.get(name) ?? 0) + (before.get(name) ?? 0));
    node.stopping = true;
    node.proc.signal('SIGTERM');
    await node.proc.exited();
    await this.launch(i);
  }

  private async scrape(i: number): Promise<Map<CounterName, number>> {
    const samples = await scrapeMetrics(`http://127.0.0.1:${this.nodes[i]!.adminPort}/metrics`);
    const out = new Map<CounterName, number>();
    for (const name of COUNTERS) out.set(name, samples.get(`broadcaster_${name}`) ?? 0);
    return out;
  }

  /** Counters summed over every server and every incarnation. */
  async counters(): Promise<Record<CounterName, number>> {
    const sum = Object.fromEntries(COUNTERS.map((n) => [n, 0])) as Record<CounterName, number>;
    for (let i = 0; i < this.nodes.length; i++) {
      const now = await this.scrape(i);
      for (const name of COUNTERS) sum[name] += (now.get(name) ?? 0) + (this.nodes[i]!.carried.get(name) ?? 0);
    }
    return sum;
  }

  /** Stops every server (graceful) and Redis; collects the last logs. */
  async stop(): Promise<void> {
    for (const node of this.nodes) {
      node.stopping = true;
      node.proc.signal('SIGCONT');
    }
    await Promise.all(this.nodes.map((n) => n.proc.stop()));
    await Promise.all(this.nodes.map((n) => n.proc.exited()));
    this.redis.signal('SIGCONT');
    await this.redis.kill();
    await stopEverything();
  }
}
