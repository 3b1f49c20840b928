/**
 * Redis CPU per publication of the history scripts themselves, from Redis's own accounting
 * (INFO commandstats, EVALSHA usec per call), on a private redis-server: the batch script of
 * publications without a key, and the idempotent script with no keys, a fresh key each, and a
 * repeat of a stored key each. One connection, one call at a time, --per-call publications per
 * call of 64-byte data; what a publish costs Redis, without HTTP or coalescing in the way.
 *
 *   node dist/loadtest/script-cost.js --calls 2000 --per-call 100 --repeat 3
 */
import Redis from 'ioredis';
import { startRedis } from '../harness/redis.js';
import { idempotentPublishScript } from '../src/broker/idempotent-scripts.js';
import { PUBLISH_MANY_SCRIPT } from '../src/broker/redis-scripts.js';
import { encodeData } from '../src/protocol/envelope.js';
import { num, parseFlags } from './cli-args.js';

const USAGE = `usage: script-cost [options]
  --calls N      script calls per measurement (default 2000)
  --per-call N   publications per call (default 100)
  --repeat N     rounds, interleaved (default 3)`;

/** The script variants measured. */
const VARIANTS = ['no key (batch script)', 'idempotent script, no key', 'a fresh key each', 'a repeated key each'] as const;
type Variant = (typeof VARIANTS)[number];

interface Scripted {
  many(stream: string, meta: string, ...args: Array<string | number | Buffer>): Promise<unknown>;
  once(numberOfKeys: number, ...args: Array<string | number | Buffer>): Promise<unknown>;
}

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), ['calls', 'per-call', 'repeat'], [], USAGE);
  const calls = num(f, 'calls', 2000, 1, 1_000_000);
  const perCall = num(f, 'per-call', 100, 1, 512);
  const repeat = num(f, 'repeat', 3, 1, 20);
  const redis = await startRedis();
  const conn = new Redis(redis.url);
  conn.defineCommand('many', { numberOfKeys: 2, lua: PUBLISH_MANY_SCRIPT });
  conn.defineCommand('once', { lua: idempotentPublishScript('PUBLISH') });
  const scripted = conn as unknown as Scripted;
  const data = encodeData(Buffer.alloc(64, 1));
  const measured = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  let fresh = 0;
  try {
    for (let round = 0; round < repeat; round++) {
      for (const variant of VARIANTS) {
        await conn.config('RESETSTAT');
        for (let i = 0; i < calls; i++) {
          if (variant === 'no key (batch script)') {
            await scripted.many('h:c', 'm:c', 100_000, 300, 86400, 'bc:c', 'EPOCH-CANDID', ...Array<Buffer>(perCall).fill(data));
            continue;
          }
          const keyed = variant !== 'idempotent script, no key';
          const keys = keyed ? Array.from({ length: perCall }, (_, j) => `bc:i:c/${variant === 'a fresh key each' ? fresh++ : j}`) : [];
          const pairs = Array.from({ length: perCall }, (_, j) => [keyed ? j + 1 : 0, data]).flat();
          await scripted.once(2 + keys.length, 'h:c', 'm:c', ...keys, 100_000, 300, 86400, 'bc:c', 'EPOCH-CANDID', 300, ...pairs);
        }
        const stats = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await conn.info('commandstats'));
        const perPublication = stats === null ? 0 : Number(stats[2]) / Number(stats[1]) / perCall;
        measured.get(variant)!.push(perPublication);
        process.stdout.write(`round ${round + 1} ${variant}: ${perPublication.toFixed(2)} µs per publication\n`);
      }
    }
  } finally {
    conn.disconnect();
    await redis.stop();
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const base = median(measured.get('no key (batch script)')!);
  process.stdout.write(`\n| publications (${perCall} per call) | Redis CPU µs per publication | × without a key |\n|---|---:|---:|\n`);
  for (const [variant, xs] of measured) {
    const range = xs.length > 1 ? ` (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})` : '';
    process.stdout.write(`| ${variant} | ${median(xs).toFixed(2)}${range} | ${(median(xs) / base).toFixed(2)} |\n`);
  }
}

void main();
