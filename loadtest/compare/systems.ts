/**
 * The systems the comparison runner measures, how each is started and fed, and which
 * subscriber client talks to it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClientKind } from '../generator/client-types.js';
import type { PublishVia } from '../publisher/transports.js';
import type { Command } from '../../harness/processes.js';

/** Identifiers of the comparable systems. */
export const SYSTEM_IDS = [
  'limit',
  'limit-http',
  'naive-uws',
  'bc-prod-1',
  'bc-prod-1-w0',
  'bc-prod-n',
  'bc-embedded',
  'bc-embedded-w0',
  'bc-prod-1-before',
  'bc-embedded-before',
  'bc-redis-history-before',
  'bc-redis-history-before2',
  'bc-memory',
  'bc-redis-1',
  'bc-redis-history',
  'bc-redis-secure',
  'bc-redis-n',
  'bun',
  'ws',
  'socketio',
  'bc-uws-legacy-20',
  'bc-uws-current-20',
  'bc-uws-current-24',
] as const;

/**
 * `bc-prod-1-before`, `bc-embedded-before` and `bc-redis-history-before` run the broadcaster of an older build for
 * before/after figures in one run: this environment variable names its dist folder (a
 * `npx tsc --outDir DIR` of the older commit inside this checkout, so node_modules resolve; or the
 * dist of a checkout of that commit with its own node_modules).
 */
export const BEFORE_DIST_ENV = 'BC_BENCH_BEFORE_DIST';

/** A second older build, for `bc-redis-history-before2` (three builds side by side in one run). */
export const BEFORE2_DIST_ENV = 'BC_BENCH_BEFORE2_DIST';

/** How an older build is named in tables: the folder its dist sits in (e.g. a worktree named after its commit). */
function buildName(dist: string): string {
  return path.basename(path.dirname(path.resolve(dist)));
}

/**
 * Node binaries for the uWS build comparison (`bc-uws-*`): environment variables naming a
 * Node 20 and a Node 24 that can load the current uWS build (glibc >= 2.38; on an older system,
 * `.ci/node-line.sh 20.20.2 DIR` and `.ci/node-line.sh 24.22.3 DIR` print such folders).
 */
export const UWS_BENCH_NODE_ENV = { node20: 'BC_BENCH_NODE20', node24: 'BC_BENCH_NODE24' } as const;

/**
 * HS256 secret of `bc-redis-secure` (48 characters; the server wants at least 32 bytes). A
 * benchmark-only value: the runner signs every subscriber's token with it.
 */
export const BENCH_JWT_SECRET = 'loadtest-only-hs256-secret-0123456789abcdefghijk';

/** One system identifier. */
export type SystemId = (typeof SYSTEM_IDS)[number];

/** How to run and reach one system. */
export interface SystemSpec {
  /** identifier */
  id: SystemId;
  /** human name */
  label: string;
  /** how the publisher feeds it */
  via: PublishVia;
  /** Redis channel prefix for the feed */
  redisPrefix: string;
  /** subscriber client */
  client: ClientKind;
  /** WebSocket (or socket.io) path */
  path: string;
  /** whether it needs the private Redis */
  needsRedis: boolean;
  /** processes sharing the port (SO_REUSEPORT) */
  processes: number;
  /** processes are started by one supervisor (one command; measure its whole process tree) */
  supervised: boolean;
  /** HS256 secret the server verifies: every subscriber then passes `?token=<jwt>` (default none) */
  jwtSecret?: string;
  /** a broadcaster: it serves /metrics on the admin port its command is given (peers keep no counters) */
  metrics: boolean;
  /**
   * The command for one process; `adminPort` > 0 opens the broadcaster's admin listener there
   * (a supervisor's worker i uses adminPort + i); peers ignore it.
   */
  command(port: number, redisUrl: string, adminPort?: number): Command;
  /** why it cannot run here, or null */
  unavailable(): string | null;
}

/** Repository root (dist/loadtest/compare -> ../../..). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
const DIST = path.join(ROOT, 'dist');
const BROADCASTER = path.join(DIST, 'src', 'cli', 'main.js');
const NODE = process.execPath;

function needFile(file: string): () => string | null {
  return () => (fs.existsSync(file) ? null : `${path.relative(ROOT, file)} does not exist (build first)`);
}

/** The Bun binary shipped by the npm package (run directly so its PID is Bun's own). */
export function bunBinary(): string {
  return path.join(ROOT, 'node_modules', 'bun', 'bin', 'bun.exe');
}

/** Builds the spec of a system; `processes` applies to the multi-process variants. */
export function systemSpec(id: SystemId, processes = 2): SystemSpec {
  // --workers 1: one process, no supervisor; --workers N: the built-in supervisor forks N workers
  // sharing the port. The admin listener (--admin-port, worker i on port + i) is opened on the
  // free port(s) the runner picks, so it can read the loss counters; 0 leaves it off.
  // Every broadcaster command passes --workers explicitly: the default is one worker per core
  // with Redis, which would silently turn a one-process system into a supervised one.
  const bc =
    (redis: boolean, workers = 1, extra: string[] = []) =>
    (port: number, redisUrl: string, adminPort = 0): Command => ({
      cmd: NODE,
      args: [
        BROADCASTER,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--log-level',
        'info',
        '--admin-port',
        String(adminPort),
        '--workers',
        String(workers),
        ...(redis ? ['--redis-url', redisUrl] : []),
        ...extra,
      ],
    });
  // The history-fed single process on a chosen node and uWS build (BROADCASTER_UWS_BUILD).
  const bcBuild = (build: 'legacy' | 'current', nodeEnv: string | null): Pick<SystemSpec, 'command' | 'unavailable'> => {
    const node = nodeEnv === null ? NODE : (process.env[nodeEnv] ?? '');
    return {
      command: (port, redisUrl, adminPort) => ({ ...bc(true)(port, redisUrl, adminPort), cmd: node, env: { BROADCASTER_UWS_BUILD: build } }),
      unavailable: () => (node === '' ? `set ${nodeEnv} to a node binary (see UWS_BENCH_NODE_ENV)` : needFile(BROADCASTER)()),
    };
  };
  const peer =
    (file: string) =>
    (port: number, redisUrl: string): Command => ({
      cmd: NODE,
      args: [path.join(DIST, 'loadtest', 'peers', file), '--port', String(port), '--redis-url', redisUrl],
    });
  // What most systems share: a raw client on /ws, channels under bc:, one process per start.
  const rawOnWs = { id, redisPrefix: 'bc:', client: 'raw', path: '/ws', supervised: false, metrics: false } as const;
  // the same for the broadcaster itself, whose admin /metrics the runner reads
  const bcOnWs = { ...rawOnWs, metrics: true } as const;
  switch (id) {
    case 'limit':
    case 'limit-http':
      // the limit (docs/BENCHMARKS.md, words): a minimal uWS server fanning out straight from its
      // HTTP handler, no broker. `limit-http` is its former name.
      return {
        ...rawOnWs,
        label: 'limit uWS (HTTP fed)',
        via: 'http',
        needsRedis: false,
        processes: 1,
        command: (port) => ({ cmd: NODE, args: [path.join(DIST, 'loadtest', 'peers', 'limit.js'), '--port', String(port)] }),
        unavailable: needFile(path.join(DIST, 'loadtest', 'peers', 'limit.js')),
      };
    case 'naive-uws':
      // the same minimal server fed by one Redis PSUBSCRIBE connection: the classic design, a peer
      // (called `limit` before 2026-12-02)
      return {
        ...rawOnWs,
        label: processes > 1 ? `naive uWS + ioredis x${processes}` : 'naive uWS + ioredis',
        via: 'redis',
        needsRedis: true,
        processes,
        command: peer('limit.js'),
        unavailable: needFile(path.join(DIST, 'loadtest', 'peers', 'limit.js')),
      };
    case 'bc-prod-1':
    case 'bc-prod-1-w0':
      // the production path: backends POST to HTTP publish, --redis-url, history on (the defaults)
      return {
        ...bcOnWs,
        label: id === 'bc-prod-1' ? 'broadcaster production x1' : 'broadcaster production x1, window 0',
        via: 'http',
        needsRedis: true,
        processes: 1,
        command: bc(true, 1, id === 'bc-prod-1' ? [] : ['--fanout-window-ms', '0']),
        unavailable: needFile(BROADCASTER),
      };
    case 'bc-prod-n':
      return {
        ...bcOnWs,
        label: `broadcaster production x${processes} (supervisor)`,
        via: 'http',
        needsRedis: true,
        processes,
        supervised: true,
        command: bc(true, processes),
        unavailable: needFile(BROADCASTER),
      };
    case 'bc-prod-1-before':
    case 'bc-embedded-before':
    case 'bc-redis-history-before':
    case 'bc-redis-history-before2': {
      const env = id === 'bc-redis-history-before2' ? BEFORE2_DIST_ENV : BEFORE_DIST_ENV;
      const dir = process.env[env] ?? '';
      const main = path.join(dir, 'src', 'cli', 'main.js');
      const redis = id !== 'bc-embedded-before';
      const fedByRedis = id.startsWith('bc-redis-history');
      const build = dir === '' ? 'before' : `before (${buildName(dir)})`;
      return {
        ...bcOnWs,
        label: fedByRedis ? `broadcaster redis+history, ${build}` : redis ? `broadcaster production x1, ${build}` : `broadcaster embedded, ${build}`,
        via: fedByRedis ? 'redis-history' : 'http',
        needsRedis: redis,
        processes: 1,
        command: (port, redisUrl, adminPort) => {
          const c = bc(redis)(port, redisUrl, adminPort);
          return { ...c, args: [main, ...c.args.slice(1)] };
        },
        unavailable: () => (dir === '' ? `set ${env} to an older build's dist folder` : needFile(main)()),
      };
    }
    case 'bc-embedded':
    case 'bc-embedded-w0':
    case 'bc-memory':
      // the embedded default (memory broker, HTTP-fed); `bc-memory` is its former name
      return {
        ...bcOnWs,
        label: id === 'bc-embedded-w0' ? 'broadcaster embedded, window 0' : 'broadcaster embedded (memory)',
        via: 'http',
        needsRedis: false,
        processes: 1,
        command: bc(false, 1, id === 'bc-embedded-w0' ? ['--fanout-window-ms', '0'] : []),
        unavailable: needFile(BROADCASTER),
      };
    case 'bc-redis-1':
      // raw envelope feed (no offsets): the baseline. With `processes` > 1 (workload d): that many
      // independent `--workers 1` processes.
      return {
        ...bcOnWs,
        label: processes > 1 ? `broadcaster redis x${processes} (--workers 1 each)` : 'broadcaster redis x1',
        via: 'redis',
        needsRedis: true,
        processes,
        command: bc(true),
        unavailable: needFile(BROADCASTER),
      };
    case 'bc-redis-history':
      // fed through the history path (offset + history stream + PUBLISH in one Lua script, size
      // 100, ttl 300 = the server's defaults): publications carry offsets, the sequencer runs
      return {
        ...bcOnWs,
        label: processes > 1 ? `broadcaster redis+history x${processes}` : 'broadcaster redis+history',
        via: 'redis-history',
        needsRedis: true,
        processes,
        command: bc(true),
        unavailable: needFile(BROADCASTER),
      };
    case 'bc-redis-secure':
      // history feed + JWT (HS256) required at the upgrade + the default rate and connection limits
      return {
        ...bcOnWs,
        label: processes > 1 ? `broadcaster redis+history+jwt x${processes}` : 'broadcaster redis+history+jwt',
        via: 'redis-history',
        needsRedis: true,
        processes,
        jwtSecret: BENCH_JWT_SECRET,
        command: bc(true, 1, ['--jwt-secret', BENCH_JWT_SECRET]),
        unavailable: needFile(BROADCASTER),
      };
    case 'bc-redis-n':
      return {
        ...bcOnWs,
        label: `broadcaster redis x${processes} (supervisor)`,
        via: 'redis',
        needsRedis: true,
        processes,
        supervised: true,
        command: bc(true, processes),
        unavailable: needFile(BROADCASTER),
      };
    case 'bc-uws-legacy-20':
    case 'bc-uws-current-20':
    case 'bc-uws-current-24': {
      const build = id === 'bc-uws-legacy-20' ? 'legacy' : 'current';
      const nodeEnv = id === 'bc-uws-legacy-20' ? null : id === 'bc-uws-current-20' ? UWS_BENCH_NODE_ENV.node20 : UWS_BENCH_NODE_ENV.node24;
      return {
        ...bcOnWs,
        label: `broadcaster redis+history, uWS ${build}, Node ${id.slice(-2)}`,
        via: 'redis-history',
        needsRedis: true,
        processes: 1,
        ...bcBuild(build, nodeEnv),
      };
    }
    case 'bun':
      return {
        ...rawOnWs,
        label: processes > 1 ? `bun publish x${processes}` : 'bun publish',
        via: 'redis',
        needsRedis: true,
        processes,
        command: (port, redisUrl) => ({
          cmd: bunBinary(),
          args: [path.join(ROOT, 'loadtest', 'peers', 'bun-peer.bun.ts'), '--port', String(port), '--redis-url', redisUrl],
        }),
        unavailable: needFile(bunBinary()),
      };
    case 'ws':
      return {
        ...rawOnWs,
        label: 'ws + ioredis',
        via: 'redis',
        needsRedis: true,
        processes: 1,
        command: peer('ws-peer.js'),
        unavailable: needFile(path.join(DIST, 'loadtest', 'peers', 'ws-peer.js')),
      };
    case 'socketio':
      return {
        id,
        label: 'socket.io + redis-adapter',
        via: 'socketio-redis',
        redisPrefix: 'socket.io',
        client: 'socketio-raw',
        path: '/socket.io',
        needsRedis: true,
        processes: 1,
        supervised: false,
        metrics: false,
        command: peer('socketio-peer.js'),
        unavailable: needFile(path.join(DIST, 'loadtest', 'peers', 'socketio-peer.js')),
      };
  }
}
