import pino from 'pino';
import type { LogLevel } from '../config/options';

/** The structured JSON logger used everywhere in the server. */
export type Logger = pino.Logger;

/** Creates the process logger: JSON lines on stdout at `level`. */
export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } });
}
