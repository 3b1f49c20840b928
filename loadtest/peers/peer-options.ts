/**
 * Command-line options and start-up logging shared by the Node peers, mirroring the
 * broadcaster CLI (`--port`, `--host`, `--redis-url`, `--redis-prefix`) and its "listening" line,
 * so the comparison runner starts and waits for every system the same way.
 */
import { num, parseFlags, str } from '../cli-args.js';

/** Options every peer understands. */
export interface PeerOptions {
  /** port, 0 = random */
  port: number;
  /** bind address */
  host: string;
  /** Redis URL, or '' for no Redis feed */
  redisUrl: string;
  /** Redis channel prefix for the broadcaster envelope feed */
  redisPrefix: string;
}

/** Parses the peer flags (extra string flags may be allowed for a particular peer). */
export function parsePeerOptions(argv: string[], name: string, extra: readonly string[] = []): PeerOptions & { extra: Record<string, string> } {
  const usage = `usage: ${name} [--port N] [--host H] [--redis-url redis://127.0.0.1:P] [--redis-prefix bc:]${extra.map((e) => ` [--${e} V]`).join('')}`;
  const f = parseFlags(argv, ['port', 'host', 'redis-url', 'redis-prefix', 'log-level', ...extra], [], usage);
  const extras: Record<string, string> = {};
  for (const e of extra) {
    const v = f[e];
    if (typeof v === 'string') extras[e] = v;
  }
  return {
    port: num(f, 'port', 0, 0, 65535),
    host: str(f, 'host', '127.0.0.1'),
    redisUrl: str(f, 'redis-url', ''),
    redisPrefix: str(f, 'redis-prefix', 'bc:'),
    extra: extras,
  };
}

/** Prints the pino-style JSON line the comparison runner waits for. */
export function logListening(name: string, port: number, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, name, msg: 'listening', port, ...fields })}\n`);
}

/** Channels from a `channels=a,b` query value, keeping only valid names. */
export function channelsFromQuery(value: string | null | undefined): string[] {
  if (value === null || value === undefined || value === '') return [];
  return value.split(',').filter((c) => /^[A-Za-z0-9_.:@=-]{1,255}$/.test(c));
}
