/**
 * Counts a server's socket-writing syscalls with `perf stat` (almost free, unlike strace) between
 * two points of a run: delivered frames ÷ writes = frames per write, the figure that decides
 * fan-out throughput (docs/BENCHMARKS.md). Absent perf, or without permission, it counts nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The syscalls counted: every way Node, uWS and ioredis write to a socket. */
export const WRITE_EVENTS = ['syscalls:sys_enter_sendto', 'syscalls:sys_enter_write', 'syscalls:sys_enter_writev', 'syscalls:sys_enter_sendmsg'];

/** A running count; `stop()` resolves with the total (0 when perf could not count). */
export interface WriteCount {
  stop(): Promise<number>;
}

/** Starts counting the write syscalls of `pids` (all their threads). */
export function countWrites(pids: readonly number[]): WriteCount {
  const out = path.join(os.tmpdir(), `bc-writes-${process.pid}-${Date.now()}.csv`);
  let child: ChildProcess | null = null;
  try {
    child = spawn('perf', ['stat', '-x', ',', '-o', out, '-e', WRITE_EVENTS.join(','), '-p', pids.join(',')], { stdio: 'ignore' });
    child.on('error', () => {});
  } catch {
    child = null;
  }
  return {
    async stop() {
      if (child === null || child.exitCode !== null) return 0;
      const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      let total = 0;
      try {
        for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
          const count = Number(line.split(',')[0]);
          if (Number.isFinite(count)) total += count;
        }
        fs.rmSync(out, { force: true });
      } catch {
        return 0;
      }
      return total;
    },
  };
}
