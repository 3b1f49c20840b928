/**
 * Per-process CPU time and resident memory from /proc (Linux), for processes the runner started.
 */
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicks = 0;

/** Kernel clock ticks per second (getconf CLK_TCK, usually 100). */
export function clkTck(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process in µs (resolution 1/CLK_TCK s), or 0 when it is gone. */
export function cpuTimeUs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name, which is in parentheses and may contain spaces
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return ((utime + stime) * 1e6) / clkTck();
  } catch {
    return 0;
  }
}

/** Resident set size of a process in bytes (VmRSS), or 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** PIDs of every descendant of `pid` (children, grandchildren, ...), from /proc/<pid>/stat ppid. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(name), Number(rest[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const [child, parent] of parentOf) if (frontier.includes(parent)) next.push(child);
    out.push(...next);
    frontier = next;
  }
  return out;
}

/** Sum of cpuTimeUs over processes. */
export function totalCpuUs(pids: readonly number[]): number {
  return pids.reduce((a, p) => a + cpuTimeUs(p), 0);
}

/** Sum of rssBytes over processes. */
export function totalRss(pids: readonly number[]): number {
  return pids.reduce((a, p) => a + rssBytes(p), 0);
}

/** Open file descriptors of a process (for the fd budget), or -1 when unreadable. */
export function openFds(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}
