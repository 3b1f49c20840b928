import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { onProcessExit } from './exit-cleanup';
import { isPortFree } from './free-port';
import { sleep } from './wait';

/** Node ports are drawn from here; bus ports (port + 10000) stay below the ephemeral range (32768+). */
const LOW = 10000;
const HIGH = 22767;

/** One redis-server of the test cluster. */
export interface ClusterNodeInfo {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** PID of the running process, null while it is stopped. */
  readonly pid: number | null;
}

/** One shard as a live node reports it (CLUSTER SHARDS). */
export interface ShardInfo {
  /** Inclusive slot ranges. */
  readonly ranges: Array<[number, number]>;
  readonly master: { id: string; port: number; health: string };
  readonly replicas: Array<{ id: string; port: number; health: string }>;
}

/** Options of {@link TestRedisCluster.start}. */
export interface TestRedisClusterOptions {
  /** Masters (default 3). */
  masters?: number;
  /** Replicas per master (default 1). */
  replicas?: number;
  /** `cluster-node-timeout` in ms (default 1000): how soon a dead master is failed over. */
  nodeTimeoutMs?: number;
  /** Whole-operation limit for start, failover and restart waits (default 30 s). */
  timeoutMs?: number;
}

interface Node {
  port: number;
  dir: string;
  proc: ChildProcess | null;
}

/**
 * A private Redis Cluster on loopback (default 3 masters + 3 replicas), each node a redis-server
 * with `--cluster-enabled yes`, no persistence, its own directory under one temporary folder.
 * Processes are stopped by PID in {@link stop} and, as a last resort, when the test process exits.
 * A node that exits without being told to makes every later wait fail at once.
 */
export class TestRedisCluster {
  private failure: Error | null = null;
  private readonly unregister: () => void;

  private constructor(
    private readonly nodes: Node[],
    private readonly root: string,
    private readonly options: Required<TestRedisClusterOptions>,
  ) {
    this.unregister = onProcessExit(() => {
      for (const node of this.nodes) if (node.proc?.pid !== undefined) process.kill(node.proc.pid, 'SIGKILL');
      rmSync(this.root, { recursive: true, force: true });
    });
  }

  /** Starts the nodes, joins them with `redis-cli --cluster create` and waits until every node reports `cluster_state:ok` with all slots covered. */
  static async start(options: TestRedisClusterOptions = {}): Promise<TestRedisCluster> {
    const opts: Required<TestRedisClusterOptions> = { masters: 3, replicas: 1, nodeTimeoutMs: 1000, timeoutMs: 30_000, ...options };
    const count = opts.masters * (1 + opts.replicas);
    const base = await freeClusterPorts(count);
    const root = mkdtempSync(join(tmpdir(), 'bc-cluster-'));
    const nodes = Array.from({ length: count }, (_, i) => ({ port: base + i, dir: join(root, String(base + i)), proc: null }));
    const cluster = new TestRedisCluster(nodes, root, opts);
    try {
      for (const node of nodes) {
        mkdirSync(node.dir);
        cluster.spawnNode(node);
      }
      for (const node of nodes) await cluster.waitFor(`node ${node.port} to answer PING`, () => cluster.pings(node.port));
      const args = ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(opts.replicas), '--cluster-yes'];
      const [out, code] = await run('redis-cli', args, opts.timeoutMs);
      if (code !== 0) throw new Error(`redis-cli --cluster create failed (${code}): ${out}`);
      await cluster.waitUntilHealthy();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** All nodes, masters and replicas, in port order. */
  get nodeInfo(): ClusterNodeInfo[] {
    return this.nodes.map((n) => ({ port: n.port, url: `redis://127.0.0.1:${n.port}`, pid: n.proc?.pid ?? null }));
  }

  /** Startup nodes for ioredis `Cluster` (every node, so a dead one is not the only way in). */
  get startupNodes(): Array<{ host: string; port: number }> {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  /** Ports of the running nodes. */
  get runningPorts(): number[] {
    return this.nodes.filter((n) => n.proc !== null).map((n) => n.port);
  }

  /** A plain connection to one node (the caller disconnects it). */
  client(port: number): Redis {
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: true });
    client.on('error', () => {});
    return client;
  }

  /** Runs one command on one node and disconnects. */
  async command(port: number, name: string, ...args: Array<string | number | Buffer>): Promise<unknown> {
    const client = this.client(port);
    try {
      await client.connect();
      return await client.call(name, ...args);
    } finally {
      client.disconnect();
    }
  }

  /** The shards as the first running node sees them. */
  async shards(): Promise<ShardInfo[]> {
    this.check();
    return parseShards(await this.command(this.runningPorts[0] as number, 'CLUSTER', 'SHARDS'));
  }

  /** Port of the master serving `slot`. */
  async masterOf(slot: number): Promise<number> {
    const shard = (await this.shards()).find((s) => s.ranges.some(([a, b]) => slot >= a && slot <= b));
    if (shard === undefined) throw new Error(`no shard serves slot ${slot}`);
    return shard.master.port;
  }

  /** Kills a node with SIGKILL by PID (a crash) and waits until it has exited. */
  async kill(port: number): Promise<void> {
    const node = this.node(port);
    const proc = node.proc;
    if (proc === null) return;
    node.proc = null;
    const exited = proc.exitCode === null && proc.signalCode === null ? once(proc, 'exit') : Promise.resolve();
    proc.kill('SIGKILL');
    await exited;
  }

  /**
   * Kills the master on `port` and waits until one of its replicas serves its slots as master and
   * every running node reports `cluster_state:ok`; returns the new master's port.
   */
  async killMasterAndAwaitPromotion(port: number): Promise<number> {
    const shard = (await this.shards()).find((s) => s.master.port === port);
    if (shard === undefined) throw new Error(`node ${port} is not a master serving slots`);
    const first = shard.ranges[0]![0];
    await this.kill(port);
    let promoted = 0;
    await this.waitFor(`a replica of ${port} to be promoted`, async () => {
      const now = (await this.shards().catch(() => [])).find((s) => s.ranges.some(([a, b]) => first >= a && first <= b));
      if (now === undefined || now.master.port === port || now.master.health !== 'online') return false;
      promoted = now.master.port;
      return true;
    });
    await this.waitUntilHealthy();
    return promoted;
  }

  /** Starts a stopped node again on its port and directory (it rejoins from its nodes.conf) and waits until the cluster is healthy. */
  async restart(port: number): Promise<void> {
    const node = this.node(port);
    if (node.proc !== null) throw new Error(`node ${port} is running; kill it first`);
    this.spawnNode(node);
    await this.waitFor(`node ${port} to answer PING`, () => this.pings(port));
    await this.waitUntilHealthy();
  }

  /**
   * Moves `slot` to the master on `targetPort`: SETSLOT IMPORTING on the target, MIGRATING on the
   * source, MIGRATE of its keys, then SETSLOT NODE on target, source and the other masters.
   * `beforeHandover` runs after the keys moved and before ownership changes.
   */
  async migrateSlot(slot: number, targetPort: number, beforeHandover?: () => Promise<void>): Promise<void> {
    const shards = await this.shards();
    const source = shards.find((s) => s.ranges.some(([a, b]) => slot >= a && slot <= b))?.master;
    const target = shards.find((s) => s.master.port === targetPort)?.master;
    if (source === undefined || target === undefined) throw new Error(`slot ${slot} or master ${targetPort} not found`);
    if (source.port === targetPort) throw new Error(`slot ${slot} is already served by ${targetPort}`);
    await this.command(target.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
    await this.command(source.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id);
    for (;;) {
      const keys = (await this.command(source.port, 'CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
      if (keys.length === 0) break;
      await this.command(source.port, 'MIGRATE', '127.0.0.1', target.port, '', 0, 5000, 'KEYS', ...keys);
    }
    await beforeHandover?.();
    await this.command(target.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
    await this.command(source.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
    for (const shard of shards) {
      if (shard.ranges.length > 0 && shard.master.port !== source.port && shard.master.port !== target.port && shard.master.health === 'online') {
        await this.command(shard.master.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
      }
    }
    await this.waitFor(`every running node to see slot ${slot} on ${targetPort}`, async () => {
      for (const port of this.runningPorts) {
        const seen = parseShards(await this.command(port, 'CLUSTER', 'SHARDS'));
        if (!seen.some((s) => s.master.port === targetPort && s.ranges.some(([a, b]) => slot >= a && slot <= b))) return false;
      }
      return true;
    });
  }

  /** Stops every node by PID (SIGKILL) and removes the temporary folder. */
  async stop(): Promise<void> {
    for (const node of this.nodes) await this.kill(node.port);
    rmSync(this.root, { recursive: true, force: true });
    this.unregister();
  }

  /** Waits until every running node reports `cluster_state:ok` with 16384 slots ok, every shard with slots has an online master and every running replica's link to its master is up, every running master serves slots, and every running node sees the others in their own roles. */
  async waitUntilHealthy(): Promise<void> {
    await this.waitFor('cluster_state:ok with all slots covered on every running node', async () => {
      for (const port of this.runningPorts) {
        const info = String(await this.command(port, 'CLUSTER', 'INFO'));
        if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return false;
        if (!info.includes(`cluster_known_nodes:${this.nodes.length}`)) return false;
      }
      const shards = await this.shards();
      if (!shards.filter((s) => s.ranges.length > 0).every((s) => s.master.health === 'online')) return false;
      // A replica counts once its link to the master is up (CLUSTER SHARDS says "loading" until the
      // master's next replication ping, up to repl-ping-replica-period = 10 s, moves the offset).
      // A master without slots is a restarted old master that has not yet learnt it was replaced;
      // and every running node must see every running node in the role it has itself.
      const serving = new Set(shards.filter((s) => s.ranges.length > 0).map((s) => s.master.port));
      const masters = new Set<number>();
      for (const port of this.runningPorts) {
        if (!(await this.replicaReady(port))) return false;
        if (await this.isMaster(port)) {
          if (!serving.has(port)) return false;
          masters.add(port);
        }
      }
      for (const viewer of this.runningPorts) {
        for (const shard of parseShards(await this.command(viewer, 'CLUSTER', 'SHARDS'))) {
          if (this.runningPorts.includes(shard.master.port) && shard.ranges.length > 0 !== masters.has(shard.master.port)) return false;
          // a running node listed as a master without slots: this viewer has not yet learnt it became a replica
          if (this.runningPorts.includes(shard.master.port) && shard.ranges.length === 0) return false;
          if (shard.replicas.some((r) => masters.has(r.port))) return false;
        }
      }
      return true;
    });
  }

  /** True when the node on `port` says it is a master (`INFO replication`). */
  async isMaster(port: number): Promise<boolean> {
    return String(await this.command(port, 'INFO', 'replication')).includes('role:master');
  }

  /** True for a master, and for a replica whose replication link is up (`INFO replication`). */
  async replicaReady(port: number): Promise<boolean> {
    const info = String(await this.command(port, 'INFO', 'replication'));
    return info.includes('role:master') || info.includes('master_link_status:up');
  }

  /** Polls `check` until true; fails at once when a node died unexpectedly, or after the timeout. */
  async waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.options.timeoutMs;
    for (;;) {
      this.check();
      if (await check().catch(() => false)) return;
      this.check();
      if (Date.now() > deadline) throw new Error(`timed out after ${this.options.timeoutMs} ms waiting for ${what}`);
      await sleep(50);
    }
  }

  /** Throws the first unexpected node exit, if any. */
  check(): void {
    if (this.failure !== null) throw this.failure;
  }

  private node(port: number): Node {
    const node = this.nodes.find((n) => n.port === port);
    if (node === undefined) throw new Error(`no cluster node on port ${port}`);
    return node;
  }

  private async pings(port: number): Promise<boolean> {
    return (await this.command(port, 'PING').catch(() => null)) === 'PONG';
  }

  private spawnNode(node: Node): void {
    const log = openSync(join(node.dir, 'redis.log'), 'a');
    const args = [
      '--port',
      String(node.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      node.dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(this.options.nodeTimeoutMs),
      '--save',
      '',
      '--appendonly',
      'no',
      '--repl-diskless-sync-delay',
      '0',
    ];
    const proc = spawn('redis-server', args, { stdio: ['ignore', log, log] });
    closeSync(log);
    node.proc = proc;
    proc.once('exit', (code, signal) => {
      if (node.proc !== proc) return; // killed on purpose
      node.proc = null;
      const tail = readFileSync(join(node.dir, 'redis.log'), 'utf8').split('\n').slice(-5).join('\n');
      this.failure ??= new Error(`cluster node ${node.port} exited unexpectedly (code ${code}, signal ${signal}): ${tail}`);
    });
  }
}

/** Finds `count` consecutive ports p ≤ 22767 with p and its bus port p + 10000 free on 127.0.0.1. */
async function freeClusterPorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW - count));
    let free = true;
    for (let p = base; p < base + count && free; p++) free = (await isPortFree(p)) && (await isPortFree(p + 10000));
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive ports with free bus ports (+10000) found between ${LOW} and ${HIGH}`);
}

/** Runs a command with a time limit; resolves with its combined output and exit code. */
async function run(command: string, args: string[], timeoutMs: number): Promise<[string, number | null]> {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(timer);
  return [out, code];
}

/** Reads a RESP2 `CLUSTER SHARDS` reply. */
export function parseShards(reply: unknown): ShardInfo[] {
  const map = (flat: unknown): Map<string, unknown> => {
    const m = new Map<string, unknown>();
    const list = flat as unknown[];
    for (let i = 0; i + 1 < list.length; i += 2) m.set(String(list[i]), list[i + 1]);
    return m;
  };
  return (reply as unknown[]).map((shard) => {
    const fields = map(shard);
    const slots = (fields.get('slots') as unknown[]).map(Number);
    const ranges: Array<[number, number]> = [];
    for (let i = 0; i + 1 < slots.length; i += 2) ranges.push([slots[i] as number, slots[i + 1] as number]);
    const nodes = (fields.get('nodes') as unknown[])
      .map(map)
      .map((n) => ({ id: String(n.get('id')), port: Number(n.get('port')), health: String(n.get('health')), role: String(n.get('role')) }));
    const master = nodes.find((n) => n.role === 'master') ?? { id: '', port: 0, health: 'none' };
    return {
      ranges,
      master: { id: master.id, port: master.port, health: master.health },
      replicas: nodes.filter((n) => n.role !== 'master').map(({ id, port, health }) => ({ id, port, health })),
    };
  });
}
