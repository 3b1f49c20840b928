/**
 * What Redis says about pub/sub connections it held back or cut: the output memory of its
 * pub/sub clients (`CLIENT LIST` omem: what a slow subscriber has not read) and the log lines of
 * clients it closed for passing `client-output-buffer-limit pubsub` (Redis 7.0 counts them
 * nowhere else).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/** Redis's log line when it closes a client over its output buffer limit (sync and async wording). */
export const OUTPUT_LIMIT_LINE = /for overcoming of output buffer limits/;

/** What one or more Redis nodes said. */
export interface RedisView {
  /** nodes asked */
  nodes: number;
  /** clients closed for passing their output buffer limit (from the log) */
  outputBufferKills: number;
  /** pub/sub clients connected (subscribed to a channel, pattern or shard channel) */
  pubsubClients: number;
  /** largest output memory of one pub/sub client, bytes */
  maxPubsubOutputBytes: number;
}

/** An empty view of no node. */
export function emptyRedisView(): RedisView {
  return { nodes: 0, outputBufferKills: 0, pubsubClients: 0, maxPubsubOutputBytes: 0 };
}

/** Fields of each line of a `CLIENT LIST` reply (`id=3 addr=… omem=0 …`). */
export function parseClientList(text: string): Array<Record<string, string>> {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((line) => {
      const fields: Record<string, string> = {};
      for (const part of line.split(' ')) {
        const eq = part.indexOf('=');
        if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
      }
      return fields;
    });
}

/** Pub/sub clients and their largest output memory in a `CLIENT LIST` reply. */
export function pubsubOutput(text: string): Pick<RedisView, 'pubsubClients' | 'maxPubsubOutputBytes'> {
  let pubsubClients = 0;
  let maxPubsubOutputBytes = 0;
  for (const c of parseClientList(text)) {
    const subscribed = Number(c.sub ?? 0) + Number(c.psub ?? 0) + Number(c.ssub ?? 0) > 0 || (c.flags ?? '').includes('P');
    if (!subscribed) continue;
    pubsubClients++;
    maxPubsubOutputBytes = Math.max(maxPubsubOutputBytes, Number(c.omem ?? 0));
  }
  return { pubsubClients, maxPubsubOutputBytes };
}

/** Lines of `log` matching OUTPUT_LIMIT_LINE. */
export function countOutputLimitKills(log: string): number {
  let n = 0;
  for (const line of log.split('\n')) if (OUTPUT_LIMIT_LINE.test(line)) n++;
  return n;
}

/** Sum of several nodes' views (largest output memory over all). */
export function sumRedisViews(list: readonly RedisView[]): RedisView {
  const out = emptyRedisView();
  for (const v of list) {
    out.nodes += v.nodes;
    out.outputBufferKills += v.outputBufferKills;
    out.pubsubClients += v.pubsubClients;
    out.maxPubsubOutputBytes = Math.max(out.maxPubsubOutputBytes, v.maxPubsubOutputBytes);
  }
  return out;
}

function cli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 5000 });
}

/**
 * Asks the Redis on 127.0.0.1:`port` (redis-cli) for its pub/sub clients; counts output-limit
 * closes in its log file when it writes one, else takes `logKills` (a log on stdout is counted
 * by whoever reads it). Null when it does not answer.
 */
export function readRedisView(port: number, logKills = 0): RedisView | null {
  try {
    const clients = pubsubOutput(cli(port, 'CLIENT', 'LIST'));
    let kills = logKills;
    const [, file = ''] = cli(port, 'CONFIG', 'GET', 'logfile').trim().split('\n');
    if (file !== '') {
      const [, dir = ''] = cli(port, 'CONFIG', 'GET', 'dir').trim().split('\n');
      const path = isAbsolute(file) ? file : join(dir, file);
      if (existsSync(path)) kills = countOutputLimitKills(readFileSync(path, 'utf8'));
    }
    return { nodes: 1, outputBufferKills: kills, ...clients };
  } catch {
    return null;
  }
}
