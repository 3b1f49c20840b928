/**
 * The faults of the chaos run. Each scenario names its processes' settings and injects its fault
 * mid-stream, while the publisher runs and the clients keep their positions.
 */
import type Redis from 'ioredis';
import type { ChaosClient } from './chaos-client';
import type { ChaosCluster } from './chaos-cluster';
import type { ChaosPublisher } from './chaos-publisher';

/** What a fault can act on. */
export interface FaultContext {
  cluster: ChaosCluster;
  /** Clients on the ordinary channels. */
  clients: ChaosClient[];
  /** Clients on the heavy channel (empty unless the scenario has one). */
  heavyClients: ChaosClient[];
  publisher: ChaosPublisher;
  /** Observations printed with the scenario's figures. */
  notes: string[];
  /** A new admin connection to the scenario's Redis (the fault disconnects it). */
  admin(): Redis;
}

/** A channel with big publications at a high rate, for faults that need bytes to pile up. */
export interface HeavyChannel {
  /** Padding bytes per publication. */
  padding: number;
  /** Publications per second. */
  rate: number;
  /** Clients subscribed to it only. */
  clients: number;
}

/** One fault scenario. */
export interface Scenario {
  /** Name used by --scenario. */
  name: string;
  /** The fault, in a few words (first column of the failure table). */
  fault: string;
  /** True when the fault loses Redis data: losses are expected, and must be announced. */
  losesHistory?: boolean;
  persistent?: boolean;
  redisArgs?: string[];
  serverArgs?: string[];
  heavy?: HeavyChannel;
  /** Injects the fault; resolves when it is over. */
  inject(ctx: FaultContext): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Subscriber connections a server opened ("redis connection ready" with role subscriber). */
function subscriberReadies(ctx: FaultContext, server: number): number {
  return ctx.cluster.currentLogs(server).filter((l) => l.msg === 'redis connection ready' && l.role === 'subscriber').length;
}

async function withAdmin<T>(ctx: FaultContext, fn: (admin: Redis) => Promise<T>): Promise<T> {
  const admin = ctx.admin();
  admin.on('error', () => {});
  try {
    return await fn(admin);
  } finally {
    admin.disconnect();
  }
}

async function restartRedis(ctx: FaultContext, downMs: number): Promise<void> {
  await ctx.cluster.redis.kill();
  await sleep(downMs);
  await ctx.cluster.redis.restart();
  ctx.notes.push(`redis-server SIGKILLed, restarted after ${downMs} ms`);
}

const HEAVY: HeavyChannel = { padding: 16_000, rate: 100, clients: 20 };

async function pauseHalf(ctx: FaultContext, ms: number): Promise<void> {
  const slow = ctx.heavyClients.filter((_, i) => i % 2 === 0);
  for (const c of slow) c.pause();
  await sleep(ms);
  for (const c of slow) c.resume();
  const closed = slow.filter((c) => c.closes.length > 0).length;
  const fast = ctx.heavyClients.filter((_, i) => i % 2 === 1);
  ctx.notes.push(
    `${slow.length} heavy-channel clients stopped reading for ${ms} ms; ${closed} of them were closed meanwhile; fast ones closed: ${fast.filter((c) => c.closes.length > 0).length}`,
  );
}

/** Half of the heavy-channel clients stop reading for 6 s under the given slow-consumer policy. */
function slowConsumer(policy: 'close' | 'drop'): Scenario {
  return {
    name: `slow-consumer-${policy}`,
    fault: `half of the heavy-channel clients stop reading 6 s (policy ${policy})`,
    heavy: HEAVY,
    serverArgs: ['--max-backpressure', '65536', '--max-message-size', '32768', '--slow-consumer-policy', policy],
    async inject(ctx) {
      await pauseHalf(ctx, 6000);
    },
  };
}

/** Every scenario, in run order. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'client-reconnect',
    fault: 'clients lose their connections (3 waves, half of the clients each)',
    async inject(ctx) {
      for (let wave = 0; wave < 3; wave++) {
        const cut = ctx.clients.filter(() => Math.random() < 0.5);
        for (const c of cut) c.cut();
        ctx.notes.push(`wave ${wave + 1}: cut ${cut.length} connections`);
        await sleep(1500);
      }
    },
  },
  {
    name: 'server-restart',
    fault: 'rolling restart of both server processes (SIGTERM, start again)',
    async inject(ctx) {
      for (let i = 0; i < ctx.cluster.size; i++) {
        const started = Date.now();
        await ctx.cluster.restart(i);
        ctx.notes.push(`server ${i} drained and back in ${Date.now() - started} ms`);
        await sleep(1000);
      }
    },
  },
  {
    name: 'redis-restart-aof',
    fault: 'Redis killed (SIGKILL) and restarted, AOF persistence',
    persistent: true,
    async inject(ctx) {
      await restartRedis(ctx, 1500);
    },
  },
  {
    name: 'redis-restart-no-persistence',
    fault: 'Redis killed (SIGKILL) and restarted, no persistence',
    persistent: false,
    losesHistory: true,
    async inject(ctx) {
      await restartRedis(ctx, 1500);
    },
  },
  {
    name: 'pubsub-buffer-cut',
    fault: 'subscriber cut at client-output-buffer-limit pubsub 64kb (server frozen 4 s)',
    heavy: HEAVY,
    async inject(ctx) {
      await withAdmin(ctx, (admin) => admin.config('SET', 'client-output-buffer-limit', 'pubsub 64kb 32kb 1'));
      const before = subscriberReadies(ctx, 0);
      ctx.publisher.excluded.add(ctx.cluster.http(0));
      ctx.cluster.signal(0, 'SIGSTOP');
      await sleep(4000);
      ctx.cluster.signal(0, 'SIGCONT');
      ctx.publisher.excluded.delete(ctx.cluster.http(0));
      await sleep(1500);
      ctx.notes.push(`server 0 frozen 4 s; its subscriber connection reopened ${subscriberReadies(ctx, 0) - before} time(s)`);
    },
  },
  {
    name: 'flushall',
    fault: 'FLUSHALL: every channel history and epoch lost',
    losesHistory: true,
    async inject(ctx) {
      await withAdmin(ctx, (admin) => admin.flushall());
      ctx.notes.push('FLUSHALL sent');
    },
  },
  slowConsumer('close'),
  slowConsumer('drop'),
  {
    name: 'redis-stall',
    fault: 'Redis stalled (SIGSTOP 3 s, then SIGCONT)',
    serverArgs: ['--redis-probe-interval', '200', '--redis-probe-timeout', '600'],
    async inject(ctx) {
      ctx.cluster.redis.signal('SIGSTOP');
      await sleep(3000);
      ctx.cluster.redis.signal('SIGCONT');
      const stalls = [0, 1].map((i) => ctx.cluster.currentLogs(i).filter((l) => /stalled/.test(String(l.msg))).length);
      ctx.notes.push(`redis-server SIGSTOP 3 s then SIGCONT; probe stall warnings per server: ${stalls.join(', ')}`);
    },
  },
  {
    name: 'pubsub-client-kill',
    fault: 'CLIENT KILL TYPE pubsub (3 times, 1.5 s apart)',
    async inject(ctx) {
      for (let i = 0; i < 3; i++) {
        const killed = await withAdmin(ctx, (admin) => admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
        ctx.notes.push(`CLIENT KILL TYPE pubsub #${i + 1}: ${String(killed)} connection(s) killed`);
        await sleep(1500);
      }
    },
  },
  {
    name: 'slow-redis',
    fault: 'slow Redis: DEBUG SLEEP 0.5 six times, 1 s apart',
    redisArgs: ['--enable-debug-command', 'local'],
    async inject(ctx) {
      await withAdmin(ctx, async (admin) => {
        for (let i = 0; i < 6; i++) {
          await admin.call('DEBUG', 'SLEEP', '0.5');
          await sleep(500);
        }
      });
      ctx.notes.push('DEBUG SLEEP 0.5 x6');
    },
  },
];
