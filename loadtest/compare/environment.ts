/**
 * Machine and version facts recorded with every comparison result.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { bunBinary, ROOT } from './systems.js';

/** Machine, versions and command line of a run. */
export interface Environment {
  /** CPU model and count */
  cpu: string;
  /** logical CPUs */
  cpus: number;
  /** total memory, GiB */
  memoryGiB: number;
  /** kernel release */
  kernel: string;
  /** Node.js version */
  node: string;
  /** package versions that matter */
  versions: Record<string, string>;
  /** the command line */
  command: string;
}

function pkgVersion(name: string): string {
  try {
    const p = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { name?: string; version?: string };
    return p.name !== undefined && p.name !== name ? `${p.name}@${p.version ?? '?'}` : (p.version ?? '?');
  } catch {
    return 'missing';
  }
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return 'unavailable';
  }
}

/** The uWS build this node loads, as the product's loader reports it (`legacy 20.30.0-…` or `current 20.57.0`). */
function loadedUwsBuild(): string {
  try {
    const { uwsBuild } = require('../../src/uws/uws') as typeof import('../../src/uws/uws');
    return `${uwsBuild.id} ${uwsBuild.version}`;
  } catch (err) {
    return `none: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Collects the environment facts. */
export function describeEnvironment(): Environment {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    versions: {
      'uWebSockets.js': pkgVersion('uWebSockets.js'),
      // what this node actually loads (the servers' node): on Node 20 with glibc < 2.38 the legacy build
      'uWS build loaded': loadedUwsBuild(),
      bun: run(bunBinary(), ['--version']),
      ws: pkgVersion('ws'),
      'socket.io': pkgVersion('socket.io'),
      '@socket.io/redis-adapter': pkgVersion('@socket.io/redis-adapter'),
      ioredis: pkgVersion('ioredis'),
      'redis-server':
        run('redis-server', ['--version'])
          .split(' ')
          .find((s) => s.startsWith('v=')) ?? 'unknown',
    },
    command: ['node', ...process.argv.slice(1).map((a) => path.relative(process.cwd(), a) || a)].join(' '),
  };
}
