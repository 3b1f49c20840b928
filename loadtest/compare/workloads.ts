/**
 * Workload presets of the comparison runner (issue 3: a, b, c, d), plus a smoke preset.
 */
import type { SystemId } from './systems.js';

/** One workload: what every compared system is subjected to. */
export interface Workload {
  /** identifier */
  id: string;
  /** human description */
  label: string;
  /** subscribers in total */
  subscribers: number;
  /** channels (subscriber g listens to channel g % channels) */
  channels: number;
  /** messages per second over all channels */
  rate: number;
  /** payload bytes */
  size: number;
  /** publishing seconds */
  duration: number;
  /** systems to run (default: those asked for on the command line) */
  systems?: SystemId[];
  /** HTTP-fed systems: requests in flight over as many connections (0 or absent: sequential) */
  httpInFlight?: number;
  /** processes for the multi-process systems (limit, bc-redis-*, bun) in this workload */
  processes?: number;
  /** give every process its own port (subscriber g -> process g % processes) instead of one SO_REUSEPORT port */
  separatePorts?: boolean;
  /** connect ramp: handshakes in flight per generator worker (default 256) */
  connectConcurrency?: number;
  /** connect ramp: retries of a refused/reset/timed-out connect, with back-off (default 0) */
  connectRetries?: number;
  /** whole connect phase limit, ms (default 180 s) */
  connectPhaseMs?: number;
  /** generator worker processes (default: the runner's --gen-workers) */
  generatorWorkers?: number;
  /** explicit source ports from this base (with source addresses), instead of bind(addr, 0) */
  localPortBase?: number;
}

const ALL: Workload[] = [
  { id: 'a10', label: '(a) 1 channel x 5k subs, 10 msg/s', subscribers: 5000, channels: 1, rate: 10, size: 64, duration: 10 },
  { id: 'a100', label: '(a) 1 channel x 5k subs, 100 msg/s', subscribers: 5000, channels: 1, rate: 100, size: 64, duration: 10 },
  { id: 'a1000', label: '(a) 1 channel x 5k subs, 1000 msg/s', subscribers: 5000, channels: 1, rate: 1000, size: 64, duration: 10 },
  // the same with a busy backend: 32 HTTP publishes in flight over 32 connections
  {
    id: 'a10-c32',
    label: '(a) 1 channel x 5k subs, 10 msg/s, 32 in flight',
    subscribers: 5000,
    channels: 1,
    rate: 10,
    size: 64,
    duration: 10,
    httpInFlight: 32,
  },
  {
    id: 'a100-c32',
    label: '(a) 1 channel x 5k subs, 100 msg/s, 32 in flight',
    subscribers: 5000,
    channels: 1,
    rate: 100,
    size: 64,
    duration: 10,
    httpInFlight: 32,
  },
  {
    id: 'a1000-c32',
    label: '(a) 1 channel x 5k subs, 1000 msg/s, 32 in flight',
    subscribers: 5000,
    channels: 1,
    rate: 1000,
    size: 64,
    duration: 10,
    httpInFlight: 32,
  },
  { id: 'b', label: '(b) 1000 channels x 10 subs, 2000 msg/s', subscribers: 10_000, channels: 1000, rate: 2000, size: 64, duration: 10 },
  { id: 'c64', label: '(c) 1 channel x 2k subs, 20 msg/s, 64 B', subscribers: 2000, channels: 1, rate: 20, size: 64, duration: 10 },
  { id: 'c1k', label: '(c) 1 channel x 2k subs, 20 msg/s, 1 KiB', subscribers: 2000, channels: 1, rate: 20, size: 1024, duration: 10 },
  { id: 'c16k', label: '(c) 1 channel x 2k subs, 20 msg/s, 16 KiB', subscribers: 2000, channels: 1, rate: 20, size: 16384, duration: 10 },
  {
    // 6 processes x 16,667 sockets (fd cap 20k each), one port per process; 8 generator workers
    // x 12,500; a slow ramp: 24 handshakes in flight per worker, 6 retries with back-off; explicit
    // source ports 33000 + (g % 20000) on 127.0.0.1..5 (bind(addr, 0) got slower with every socket)
    id: 'd',
    label: '(d) 1 channel x 100k subs, 2 msg/s',
    subscribers: 100_000,
    channels: 1,
    rate: 2,
    size: 64,
    duration: 20,
    systems: ['naive-uws', 'bc-redis-1'],
    processes: 6,
    separatePorts: true,
    connectConcurrency: 24,
    connectRetries: 6,
    connectPhaseMs: 300_000,
    generatorWorkers: 8,
    localPortBase: 33_000,
  },
  { id: 'sweep1k', label: 'sweep 1k subs, 100 msg/s', subscribers: 1000, channels: 1, rate: 100, size: 64, duration: 8 },
  { id: 'sweep10k', label: 'sweep 10k subs, 100 msg/s', subscribers: 10_000, channels: 1, rate: 100, size: 64, duration: 8 },
  { id: 'smoke', label: 'smoke 200 subs, 20 msg/s', subscribers: 200, channels: 2, rate: 20, size: 64, duration: 2, systems: ['limit', 'bc-memory'] },
];

/** Named groups of workloads. */
const GROUPS: Record<string, string[]> = {
  a: ['a10', 'a100', 'a1000'],
  prod: ['a10', 'a100', 'a100-c32', 'a1000', 'a1000-c32'],
  c: ['c64', 'c1k', 'c16k'],
  sweep: ['sweep1k', 'a100', 'sweep10k'],
  all: ['a10', 'a100', 'a1000', 'b', 'c64', 'c1k', 'c16k'],
};

/** Resolves comma-separated workload ids or group names (a, c, sweep, all). */
export function resolveWorkloads(spec: string): Workload[] {
  const out: Workload[] = [];
  for (const name of spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const ids = GROUPS[name] ?? [name];
    for (const id of ids) {
      const w = ALL.find((x) => x.id === id);
      if (w === undefined) throw new Error(`unknown workload ${id}; known: ${ALL.map((x) => x.id).join(', ')}, groups ${Object.keys(GROUPS).join(', ')}`);
      out.push({ ...w });
    }
  }
  return out;
}
