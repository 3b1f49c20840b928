/**
 * autocannon against the HTTP publish endpoint: POST /v1/channels/{channel}/publish with a
 * fixed body, printing requests/s and latency. Start a server first (broadcaster or a peer).
 *
 *   node dist/loadtest/autocannon-publish.js --url http://127.0.0.1:9001 --channel lt.0 \
 *     --connections 16 --pipelining 1 --duration 10 --size 64
 */
import autocannon from 'autocannon';
import { num, parseFlags, str } from './cli-args.js';
import { makePayload, stampPayload } from './protocol/payload.js';

const USAGE = `usage: autocannon-publish --url http://HOST:PORT [options]
  --channel S       channel (default lt.0)
  --connections N   concurrent connections (default 16)
  --pipelining N    requests in flight per connection (default 1)
  --duration S      seconds (default 10, max 300)
  --size N          body bytes (default 64)`;

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), ['url', 'channel', 'connections', 'pipelining', 'duration', 'size'], [], USAGE);
  const base = str(f, 'url', 'http://127.0.0.1:9001');
  const channel = str(f, 'channel', 'lt.0');
  const body = stampPayload(makePayload(num(f, 'size', 64, 1, 16 * 1024 * 1024)), 0, 0);
  const result = await autocannon({
    url: `${base}/v1/channels/${encodeURIComponent(channel)}/publish`,
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body,
    connections: num(f, 'connections', 16, 1, 1000),
    pipelining: num(f, 'pipelining', 1, 1, 100),
    duration: num(f, 'duration', 10, 1, 300),
  });
  process.stdout.write(`${autocannon.printResult(result)}\n`);
  const summary = {
    url: result.url,
    requestsPerSec: { mean: result.requests.average, p50: result.requests.p50, min: result.requests.min },
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = result.non2xx > 0 || result.errors > 0 ? 1 : 0;
}

void main();
