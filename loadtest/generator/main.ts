/**
 * WebSocket fan-out load generator CLI. Opens N subscribers over worker processes, publishes at
 * a fixed rate, verifies every delivery, prints a summary and writes a JSON result.
 * Exit code 0 when every message reached every subscriber exactly once and in order, else 1.
 *
 *   node dist/loadtest/generator/main.js --url ws://127.0.0.1:9001/ws --subscribers 5000 \
 *     --channels 1 --rate 100 --size 64 --duration 10 --via http
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bool, channelNames, num, oneOf, parseFlags, str } from '../cli-args.js';
import { runLoad, type LoadOptions } from './coordinator.js';
import { formatSummary } from './result.js';
import { PUBLISH_VIAS } from '../publisher/transports.js';
import { autoSourceAddresses, DEFAULT_PER_ADDRESS } from './source-address.js';

const USAGE = `usage: generator --url ws://HOST:PORT/ws [options]
  --url URL               server WebSocket URL (socket.io: http://HOST:PORT/socket.io)
  --client raw|ws|socketio|socketio-raw  subscriber client (default raw; socketio-raw: raw Engine.IO 4)
  --subscribers N         total subscribers (default 1000, max 200000)
  --channels N            channels lt.0..lt.N-1; subscriber g listens to lt.(g % N) (default 1)
  --channel-prefix S      (default lt.)
  --workers N             worker processes (default ceil(N/15000), at least 1)
  --source-addresses A    auto | none | comma list of 127.x.y.z (default auto: 127.0.0.1.. past 20k)
  --per-address N         subscribers per source address (default ${DEFAULT_PER_ADDRESS})
  --local-port-base N     with source addresses: subscriber g binds port N + (g % per-address) (default 0: kernel's choice)
  --connect-concurrency N handshakes in flight per worker (default 256)
  --connect-retries N     retries of a refused/reset/timed-out connect, with back-off (default 0)
  --retry-backoff MS      first retry back-off, doubling per attempt (default 500)
  --ports LIST            extra: comma list of server ports; subscriber g uses ports[g % n] (default: the URL's)
  --query S               extra URL query for every subscriber, e.g. token=<jwt>
  --via http|redis|redis-history|ws|socketio-redis   publish path (default http;
                          redis = raw envelope, no offsets; redis-history = offsets + history via the Node Publisher)
  --target URL            publish target (default: http://HOST:PORT, the --url for ws, --redis-url)
  --redis-url URL         Redis for --via redis (default redis://127.0.0.1:6379)
  --redis-prefix S        (default bc:, or socket.io for socketio-redis)
  --rate N                messages per second over all channels (default 100)
  --size N                payload bytes >= 16 (default 64)
  --duration S            publishing seconds (default 10, max 600)
  --max-messages N        publish cap (default 10000000)
  --lanes N               HTTP publish connections (default 4)
  --http-in-flight N      HTTP: 0 = sequential per connection (default); N = N requests in flight over N connections
  --settle MS             wait after connecting (default 1000)
  --drain MS              longest wait for stragglers (default 10000)
  --recount MS            when messages are missing after the drain: longest further wait, then count
                          again, so late arrivals are told from lost ones (default 15000; 0: none)
  --connect-timeout S     whole connect phase limit (default 120)
  --label S               run name
  --out FILE              JSON result (default loadtest/results/generator-<time>.json)
  --quiet                 no progress lines`;

async function main(): Promise<void> {
  const f = parseFlags(
    process.argv.slice(2),
    [
      'url',
      'client',
      'subscribers',
      'channels',
      'channel-prefix',
      'workers',
      'source-addresses',
      'per-address',
      'local-port-base',
      'connect-concurrency',
      'connect-retries',
      'retry-backoff',
      'ports',
      'query',
      'via',
      'target',
      'redis-url',
      'redis-prefix',
      'rate',
      'size',
      'duration',
      'max-messages',
      'lanes',
      'http-in-flight',
      'settle',
      'drain',
      'recount',
      'connect-timeout',
      'label',
      'out',
    ],
    ['quiet'],
    USAGE,
  );
  const url = new URL(str(f, 'url', 'ws://127.0.0.1:9001/ws'));
  const client = oneOf(f, 'client', ['raw', 'ws', 'socketio', 'socketio-raw'] as const, 'raw');
  const via = oneOf(f, 'via', PUBLISH_VIAS, 'http');
  const subscribers = num(f, 'subscribers', 1000, 1, 200_000);
  const perAddress = num(f, 'per-address', DEFAULT_PER_ADDRESS, 1, 28_000);
  const sa = str(f, 'source-addresses', 'auto');
  const sourceAddresses = sa === 'auto' ? autoSourceAddresses(subscribers, perAddress) : sa === 'none' ? [] : sa.split(',');
  const redisUrl = str(f, 'redis-url', 'redis://127.0.0.1:6379');
  const defaultTarget = via === 'http' ? `http://${url.hostname}:${url.port}` : via === 'ws' ? url.toString().split('?')[0]! : redisUrl;
  const o: LoadOptions = {
    label: str(f, 'label', `${client} ${subscribers} subs`),
    host: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    client,
    subscribers,
    channels: channelNames(str(f, 'channel-prefix', 'lt.'), num(f, 'channels', 1, 1, 100_000)),
    workers: num(f, 'workers', 1, 1, 32),
    sourceAddresses,
    perAddress,
    localPortBase: num(f, 'local-port-base', 0, 0, 65535 - 28_000),
    ports: str(f, 'ports', '')
      .split(',')
      .filter((p) => p !== '')
      .map(Number),
    query: str(f, 'query', ''),
    connectConcurrency: num(f, 'connect-concurrency', 256, 1, 10_000),
    connectRetries: num(f, 'connect-retries', 0, 0, 20),
    retryBackoffMs: num(f, 'retry-backoff', 500, 1, 60_000),
    handshakeTimeoutMs: 15_000,
    connectPhaseMs: num(f, 'connect-timeout', 120, 1, 600) * 1000,
    settleMs: num(f, 'settle', 1000, 0, 60_000),
    drainMs: num(f, 'drain', 10_000, 0, 120_000),
    recountMs: num(f, 'recount', 15_000, 0, 120_000),
    quiet: bool(f, 'quiet'),
    publisher: {
      via,
      target: str(f, 'target', defaultTarget),
      redisPrefix: str(f, 'redis-prefix', via === 'socketio-redis' ? 'socket.io' : 'bc:'),
      rate: num(f, 'rate', 100, 0.01, 1e6),
      size: num(f, 'size', 64, 16, 16 * 1024 * 1024),
      durationMs: num(f, 'duration', 10, 0.1, 600) * 1000,
      maxMessages: num(f, 'max-messages', 10_000_000, 1),
      publisherId: 0,
      lanes: num(f, 'lanes', 4, 1, 256),
      httpInFlight: num(f, 'http-in-flight', 0, 0, 1024),
      maxInFlight: 10_000,
    },
  };
  const result = await runLoad(o);
  process.stdout.write(`\n${formatSummary(result)}\n`);
  const out = str(f, 'out', path.join('loadtest', 'results', `generator-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
  process.stdout.write(`result written to ${out}\n`);
  process.exitCode = result.ok ? 0 : 1;
}

void main().catch((err: Error) => {
  process.stderr.write(`generator: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
