import type { WorkerMessage } from './worker-message';

/** How often a supervised worker checks whether it became ready, in milliseconds. */
const READY_POLL_MS = 25;

/**
 * Connects a supervised worker to its supervisor over the IPC channel: reports `listening`, then
 * `ready` once `notReadyReason()` is null, and calls `onOrphaned` when the supervisor goes away
 * (so workers never outlive it). Does nothing in a process that was not forked with IPC.
 */
export function linkToSupervisor(listening: { port: number; adminPort: number | null }, notReadyReason: () => string | null, onOrphaned: () => void): void {
  if (typeof process.send !== 'function') return;
  const send = (message: WorkerMessage): void => {
    if (process.connected) process.send!(message);
  };
  send({ type: 'listening', ...listening });
  const check = (): void => {
    if (notReadyReason() !== null) return;
    clearInterval(timer);
    send({ type: 'ready' });
  };
  const timer = setInterval(check, READY_POLL_MS);
  check();
  process.once('disconnect', onOrphaned);
}
