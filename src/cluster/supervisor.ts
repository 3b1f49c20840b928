import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log/logger';
import { WORKER_INDEX_ENV } from './process-plan';
import { isWorkerMessage } from './worker-message';
import { workerExecArgv } from './worker-exec-argv';

/** First restart delay after a crash; it doubles with each crash in a row. */
export const RESTART_BASE_DELAY_MS = 100;
/** Longest restart delay. */
export const RESTART_MAX_DELAY_MS = 10_000;
/** A worker that ran this long before exiting counts as stable: its next restart is immediate-ish again. */
export const STABLE_AFTER_MS = 30_000;
/** How long a rolling restart waits for a replacement worker to become ready. */
export const READY_TIMEOUT_MS = 30_000;

/** Delay before restarting a worker that crashed `failures` times in a row (1 = first crash). */
export function restartDelay(failures: number): number {
  return Math.min(RESTART_BASE_DELAY_MS * 2 ** Math.max(0, failures - 1), RESTART_MAX_DELAY_MS);
}

/** What the supervisor needs to run its workers. */
export interface SupervisorSettings {
  /** Number of worker processes. */
  workers: number;
  /** Script each worker runs (the CLI entry point). */
  script: string;
  /** Arguments passed to every worker (the supervisor's own command line). */
  args: readonly string[];
  /** Supervisor logger. */
  logger: Logger;
  /** The workers' --shutdown-timeout; the supervisor waits a little longer, then kills. */
  shutdownTimeout: number;
  /** Environment of the workers (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

interface Slot {
  index: number;
  proc: ChildProcess | null;
  startedAt: number;
  failures: number;
  /** Set while the supervisor itself stops this worker (rolling restart): its exit is not a crash. */
  replacing: boolean;
  restartTimer: NodeJS.Timeout | null;
  /** Resolvers waiting for the current process to report ready (true) or exit first (false). */
  readyWaiters: Array<(ready: boolean) => void>;
  exitWaiters: Array<() => void>;
  lastExitCode: number | null;
}

/**
 * Runs N worker processes of the CLI on one port (each listens with SO_REUSEPORT and has its
 * own Redis connections), restarts crashed workers with exponential back-off, replaces them one
 * at a time on `rollingRestart()`, and drains them all on `stop()`.
 */
export class Supervisor {
  private readonly slots: Slot[];
  private stopping: Promise<number> | null = null;
  private rolling: Promise<void> | null = null;

  constructor(private readonly settings: SupervisorSettings) {
    this.slots = Array.from({ length: settings.workers }, (_, index) => ({
      index,
      proc: null,
      startedAt: 0,
      failures: 0,
      replacing: false,
      restartTimer: null,
      readyWaiters: [],
      exitWaiters: [],
      lastExitCode: null,
    }));
  }

  /** Forks every worker. */
  start(): void {
    this.settings.logger.info({ workers: this.settings.workers }, 'supervisor starting workers');
    for (const slot of this.slots) this.spawn(slot);
  }

  /** Process ids of the running workers, by worker index (0 when a worker is down). */
  pids(): number[] {
    return this.slots.map((s) => s.proc?.pid ?? 0);
  }

  private spawn(slot: Slot): void {
    const { script, args, env, logger } = this.settings;
    const workerEnv = env ?? process.env;
    const proc = fork(script, [...args], {
      // Workers run on the supervisor's own node (the binary the operator started), never a PATH lookup.
      execPath: process.execPath,
      env: { ...workerEnv, [WORKER_INDEX_ENV]: String(slot.index) },
      execArgv: workerExecArgv(process.execArgv, workerEnv.NODE_OPTIONS),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    slot.proc = proc;
    slot.startedAt = Date.now();
    logger.info({ worker: slot.index, workerPid: proc.pid }, 'worker started');
    proc.on('message', (message: unknown) => {
      if (!isWorkerMessage(message) || slot.proc !== proc) return;
      if (message.type === 'ready') {
        const waiters = slot.readyWaiters;
        slot.readyWaiters = [];
        for (const w of waiters) w(true);
      }
    });
    proc.on('error', (err) => logger.error({ worker: slot.index, err: err.message }, 'worker process error'));
    proc.once('exit', (code, signal) => this.onExit(slot, proc, code, signal));
  }

  private onExit(slot: Slot, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.proc !== proc) return;
    slot.proc = null;
    slot.lastExitCode = code;
    const ranMs = Date.now() - slot.startedAt;
    const { logger } = this.settings;
    const expected = this.stopping !== null || slot.replacing;
    if (expected) logger.info({ worker: slot.index, workerPid: proc.pid, code, signal }, 'worker stopped');
    const readyWaiters = slot.readyWaiters;
    slot.readyWaiters = [];
    for (const w of readyWaiters) w(false);
    const exitWaiters = slot.exitWaiters;
    slot.exitWaiters = [];
    for (const w of exitWaiters) w();
    if (expected) return;
    slot.failures = ranMs >= STABLE_AFTER_MS ? 1 : slot.failures + 1;
    const delay = restartDelay(slot.failures);
    logger.error(
      { worker: slot.index, workerPid: proc.pid, code, signal, ranMs, restartInMs: delay, crashesInARow: slot.failures },
      'worker exited unexpectedly; restarting it',
    );
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (this.stopping === null) this.spawn(slot);
    }, delay);
  }

  private waitExit(slot: Slot): Promise<void> {
    if (slot.proc === null) return Promise.resolve();
    return new Promise((resolve) => slot.exitWaiters.push(resolve));
  }

  private waitReady(slot: Slot, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      slot.readyWaiters.push((ready) => {
        clearTimeout(timer);
        resolve(ready);
      });
    });
  }

  /**
   * Replaces the workers one at a time: SIGTERM (its clients get close 1001 and reconnect to the
   * other workers on the same port), fork a new one, wait until it is ready, then the next.
   * A second call while one runs returns the running one.
   */
  rollingRestart(): Promise<void> {
    this.rolling ??= this.roll().finally(() => (this.rolling = null));
    return this.rolling;
  }

  private async roll(): Promise<void> {
    const { logger } = this.settings;
    logger.info({ workers: this.slots.length }, 'rolling restart started');
    for (const slot of this.slots) {
      if (this.stopping !== null) return;
      if (slot.restartTimer !== null) {
        clearTimeout(slot.restartTimer);
        slot.restartTimer = null;
      }
      const old = slot.proc;
      if (old !== null) {
        slot.replacing = true;
        const exited = this.waitExit(slot);
        old.kill('SIGTERM');
        await exited;
        slot.replacing = false;
      }
      if (this.stopping !== null) return;
      slot.failures = 0;
      const ready = this.waitReady(slot, READY_TIMEOUT_MS);
      this.spawn(slot);
      if (!(await ready)) {
        logger.error(
          { worker: slot.index, timeoutMs: READY_TIMEOUT_MS },
          'rolling restart stopped: the new worker did not become ready; check its logs (Redis reachable? port free?)',
        );
        return;
      }
      logger.info({ worker: slot.index, workerPid: slot.proc?.pid }, 'rolling restart: worker replaced and ready');
    }
    logger.info('rolling restart done');
  }

  /**
   * Sends SIGTERM to every worker (each closes its clients with 1001 and exits) and resolves
   * with the exit code for the supervisor: 0 when every worker stopped cleanly, else 1.
   * Workers still running after their shutdown timeout plus a second are killed.
   */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    this.stopping ??= this.drain(signal);
    return this.stopping;
  }

  private async drain(signal: NodeJS.Signals): Promise<number> {
    const { logger, shutdownTimeout } = this.settings;
    logger.info({ signal, workers: this.slots.filter((s) => s.proc !== null).length }, 'supervisor draining workers');
    let clean = true;
    const running = this.slots.filter((s) => {
      if (s.restartTimer !== null) {
        clearTimeout(s.restartTimer);
        s.restartTimer = null;
      }
      return s.proc !== null;
    });
    const killTimer = setTimeout(() => {
      clean = false;
      for (const slot of running) {
        if (slot.proc === null) continue;
        logger.error({ worker: slot.index, workerPid: slot.proc.pid }, 'worker did not stop within --shutdown-timeout; killing it');
        slot.proc.kill('SIGKILL');
      }
    }, shutdownTimeout + 1000);
    await Promise.all(
      running.map(async (slot) => {
        const exited = this.waitExit(slot);
        slot.proc?.kill('SIGTERM');
        await exited;
        if (slot.lastExitCode !== 0) clean = false;
      }),
    );
    clearTimeout(killTimer);
    logger.info({ clean }, 'supervisor stopped');
    return clean ? 0 : 1;
  }
}
