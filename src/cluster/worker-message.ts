/** A message a supervised worker sends to its supervisor over the IPC channel. */
export type WorkerMessage =
  /** The worker listens on `port` (public) and `adminPort` (null when disabled). */
  | { type: 'listening'; port: number; adminPort: number | null }
  /** The worker is ready for traffic for the first time (listening and broker connected). */
  | { type: 'ready' };

/** True when `value` is a WorkerMessage (IPC messages are untyped). */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'listening' || type === 'ready';
}
