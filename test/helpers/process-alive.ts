import { readFileSync } from 'node:fs';
import { sleep } from './wait';

/** True while `pid` runs; a zombie (killed, not yet reaped by its parent) counts as stopped. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits up to `timeoutMs` for `pid` to stop; resolves with whether it still runs. */
export async function stillRunningAfter(pid: number, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid) && Date.now() < deadline) await sleep(20);
  return isRunning(pid);
}
