import { availableParallelism } from 'node:os';
import { ConfigError } from '../config/config-error';
import type { Options } from '../config/options';

/** Internal environment variable the supervisor sets on each worker it forks: the worker index. */
export const WORKER_INDEX_ENV = 'BROADCASTER_WORKER_INDEX';

/** How this process runs: one server, a supervisor of several workers, or one supervised worker. */
export type ProcessPlan =
  | { kind: 'single'; adminPort: number | null; notes: string[] }
  | { kind: 'supervisor'; workers: number; notes: string[] }
  | { kind: 'worker'; index: number; adminPort: number | null };

/** The admin port of process `index` (worker index, 0 outside a supervisor), or null when disabled. */
export function adminPortFor(options: Readonly<Options>, index: number): number | null {
  if (options.adminPort === 0) return null;
  const port = options.adminPort + options.instance + index;
  if (port > 65535) {
    throw new ConfigError(
      'adminPort',
      `admin port ${options.adminPort} + instance ${options.instance} + worker ${index} = ${port} is over 65535: lower --admin-port / BROADCASTER_ADMIN_PORT`,
    );
  }
  return port;
}

/**
 * Decides how many processes to run from the options (validated cross-option rules included).
 * `workers` 0 means one per core; without Redis, with --port 0 or with --instance the answer is
 * one process, and an explicit --workers N > 1 that cannot be honoured is a ConfigError.
 */
export function planProcesses(options: Readonly<Options>, env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): ProcessPlan {
  const rawIndex = env[WORKER_INDEX_ENV];
  if (rawIndex !== undefined && rawIndex !== '') {
    const index = Number(rawIndex);
    if (!Number.isInteger(index) || index < 0) {
      throw new ConfigError('workers', `${WORKER_INDEX_ENV}=${JSON.stringify(rawIndex)} is internal to the supervisor; unset it`);
    }
    return { kind: 'worker', index, adminPort: adminPortFor(options, index) };
  }
  const explicit = options.workers !== 0;
  const requested = explicit ? options.workers : cores;
  const notes: string[] = [];
  const single = (): ProcessPlan => ({ kind: 'single', adminPort: adminPortFor(options, 0), notes });
  if (requested <= 1) return single();
  if (options.redisUrl === null && options.redisClusterNodes.length === 0) {
    notes.push(
      `running one process, not ${requested}: the in-memory broker does not cross processes, so several workers would split channels; set --redis-url or --redis-cluster-nodes to run several`,
    );
    return single();
  }
  if (options.port === 0) {
    if (explicit) {
      throw new ConfigError(
        'workers',
        `--workers ${requested} needs a fixed port: the kernel picks a different port for each process that listens on --port 0, so they cannot share it; set --port to a fixed port, or --workers 1`,
      );
    }
    notes.push('running one process: --port 0 (a kernel-picked port) cannot be shared by several workers; set a fixed --port to run one worker per core');
    return single();
  }
  if (options.instance !== 0) {
    if (explicit) {
      throw new ConfigError(
        'workers',
        `--instance ${options.instance} runs one process per service unit, but --workers is ${requested}: set --workers 1 (or unset --instance to use the built-in supervisor)`,
      );
    }
    notes.push(`running one process: --instance ${options.instance} means the service manager runs one process per unit`);
    return single();
  }
  // Every worker gets adminPort + index: check the highest one now.
  adminPortFor(options, requested - 1);
  return { kind: 'supervisor', workers: requested, notes };
}
