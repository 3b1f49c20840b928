/**
 * Publisher driver entry point. As a CLI it publishes at a fixed rate and prints figures; when
 * forked by the generator coordinator (env LOADTEST_PUBLISHER_CHILD=1) it takes its options
 * over IPC and reports progress and the final result the same way.
 *
 *   node dist/loadtest/publisher/main.js --via redis --target redis://127.0.0.1:6380 \
 *     --rate 1000 --size 64 --channels 1 --duration 10
 */
import { channelNames, num, oneOf, parseFlags, str } from '../cli-args.js';
import { PUBLISH_VIAS } from './transports.js';
import { startPublisher, type PublisherOptions, type PublisherResult } from './driver.js';

/** Coordinator -> publisher child. */
export type ToPublisher = { type: 'start'; options: PublisherOptions } | { type: 'stop' };

/** Publisher child -> coordinator. */
export type FromPublisher =
  | { type: 'started' }
  | { type: 'progress'; result: PublisherResult }
  | { type: 'done'; result: PublisherResult }
  | { type: 'error'; message: string };

const USAGE = `usage: publisher --via http|redis|redis-history|ws|socketio-redis --target URL [options]
  (redis: raw envelope PUBLISH, no offsets; redis-history: the Node Publisher's Lua script, offsets + history 100/300 s)
  --target URL          http://127.0.0.1:PORT | redis://127.0.0.1:PORT | ws://127.0.0.1:PORT/ws
  --rate N              messages per second over all channels (default 100)
  --size N              payload bytes, >= 16 (default 64)
  --channels N          number of channels lt.0 .. lt.N-1 (default 1)
  --channel-prefix S    channel name prefix (default lt.)
  --duration S          seconds (default 10)
  --max-messages N      hard cap (default 10000000)
  --redis-prefix S      Redis channel prefix (default bc:, socket.io for socketio-redis)
  --publisher-id N      id written into payloads (default 0)
  --lanes N             HTTP keep-alive connections (default 4)
  --http-in-flight N    HTTP: 0 = sequential per connection (default); N = N requests in flight over N connections`;

function child(): void {
  const send = (m: FromPublisher): void => {
    if (process.connected) process.send?.(m);
  };
  let stop: (() => Promise<PublisherResult>) | undefined;
  let progress: NodeJS.Timeout | undefined;
  process.on('message', (msg: ToPublisher) => {
    if (msg.type === 'start') {
      startPublisher(msg.options).then(
        (p) => {
          stop = p.stop;
          send({ type: 'started' });
          progress = setInterval(() => send({ type: 'progress', result: p.result }), 1000);
          void p.done.then((result) => {
            clearInterval(progress);
            send({ type: 'done', result });
          });
        },
        (err: Error) => send({ type: 'error', message: err.message }),
      );
    } else if (msg.type === 'stop') {
      void stop?.();
    }
  });
  process.on('disconnect', () => process.exit(0));
}

async function cli(): Promise<void> {
  const f = parseFlags(
    process.argv.slice(2),
    ['via', 'target', 'rate', 'size', 'channels', 'channel-prefix', 'duration', 'max-messages', 'redis-prefix', 'publisher-id', 'lanes', 'http-in-flight'],
    [],
    USAGE,
  );
  const via = oneOf(f, 'via', PUBLISH_VIAS, 'http');
  const options: PublisherOptions = {
    via,
    target: str(f, 'target', via === 'http' ? 'http://127.0.0.1:9001' : via === 'ws' ? 'ws://127.0.0.1:9001/ws' : 'redis://127.0.0.1:6379'),
    redisPrefix: str(f, 'redis-prefix', via === 'socketio-redis' ? 'socket.io' : 'bc:'),
    rate: num(f, 'rate', 100, 0.01, 1e6),
    size: num(f, 'size', 64, 16, 16 * 1024 * 1024),
    channels: channelNames(str(f, 'channel-prefix', 'lt.'), num(f, 'channels', 1, 1, 1e6)),
    durationMs: num(f, 'duration', 10, 0.1, 3600) * 1000,
    maxMessages: num(f, 'max-messages', 10_000_000, 1),
    publisherId: num(f, 'publisher-id', 0, 0, 0xffffffff),
    lanes: num(f, 'lanes', 4, 1, 256),
    httpInFlight: num(f, 'http-in-flight', 0, 0, 1024),
    maxInFlight: 10_000,
  };
  const p = await startPublisher(options);
  let last = 0;
  const t = setInterval(() => {
    const r = p.result;
    process.stdout.write(`sent ${r.sent} (+${r.sent - last}/s) acked ${r.acked} failed ${r.failed} skipped ${r.skipped}\n`);
    last = r.sent;
  }, 1000);
  const onSignal = (): void => void p.stop();
  process.once('SIGINT', onSignal);
  const r = await p.done;
  clearInterval(t);
  const rate = r.elapsedMs > 0 ? (r.sent * 1000) / r.elapsedMs : 0;
  process.stdout.write(
    `${JSON.stringify({ sent: r.sent, acked: r.acked, failed: r.failed, skipped: r.skipped, ratePerSec: Math.round(rate), minReceivers: r.minReceivers, errors: r.errors })}\n`,
  );
  process.exitCode = r.failed > 0 ? 1 : 0;
}

if (process.env.LOADTEST_PUBLISHER_CHILD === '1') child();
else if (require.main === module) void cli();
