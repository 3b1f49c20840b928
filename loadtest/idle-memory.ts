/**
 * RSS per idle subscribed connection, measured after garbage collection, for the broadcaster
 * (`--workers 1`, memory broker) and the limit uWS peer, side by side in one run.
 *
 * Each server runs as `node --expose-gc -r loadtest/gc-on-signal.cjs <server> --port P`, with P
 * below the ephemeral range. Per (repeat, channels, server): SIGUSR2 (two full GCs), wait 1.5 s,
 * read VmRSS; open N idle `ws` clients (perMessageDeflate off) subscribed via
 * `/ws?channels=lt.0,...` to C channels in K steps (`--steps`), and after each step wait,
 * SIGUSR2, wait 1.5 s, read VmRSS. The marginal cost per connection is the Theil-Sen slope of
 * the K samples (the first connections' one-time costs, such as JIT code and heap sizing, fall
 * before the first sample); "from zero" is the growth over the whole run. The
 * preload also prints process.memoryUsage() after each GC, so the per-connection growth is split
 * into JS heap, external/array buffers and the rest (native: uWS, kernel socket buffers are not
 * in RSS).
 *
 *   node dist/loadtest/idle-memory.js --connections 18000 --steps 6 --channels 1,100 --repeat 3
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import WebSocket from 'ws';
import { num, parseFlags, str } from './cli-args.js';
import { rssBytes } from './compare/proc-stats.js';
import { freePort } from '../harness/ports.js';
import { type RunningProcess as ServerProcess, startProcess, stopProcess } from '../harness/processes.js';
import { BENCH_JWT_SECRET, ROOT } from './compare/systems.js';
import { benchToken } from './compare/run-compare.js';
import { spread, type Spread } from './compare/report.js';
import { theilSenSlope as slope } from './theil-sen.js';

const USAGE = `usage: idle-memory [options]
  --connections N   idle subscribers per measurement (default 10000, < 20000: one client process)
  --channels LIST   comma list of layouts (default 1,100,spread100):
                      N         every connection subscribes to the same N channels lt.0..lt.N-1
                      spreadN   connection i subscribes to one channel, lt.(i % N)
  --servers LIST    bc,limit,bc-jwt (default bc,limit; bc-jwt: broadcaster with --jwt-secret, clients pass ?token=);
                    a +young2 suffix (bc+young2) runs that server under node --max-semi-space-size=2
  --repeat N        repeats, interleaved (default 3)
  --concurrency N   handshakes in flight (default 200)
  --steps K         open the connections in K equal steps, GC and sample after each (default 3); the
                    marginal cost is the Theil-Sen slope of those K samples, so fixed costs of
                    the first connections (JIT code, V8 young-generation pages) do not count per connection
  --out FILE        JSON (default loadtest/results/idle-memory-<time>.json)`;

const PRELOAD = path.join(ROOT, 'loadtest', 'gc-on-signal.cjs');

/** process.memoryUsage() as printed by the preload. */
interface MemoryLine {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** One measurement. */
interface Sample {
  server: string;
  /** layout: N (every connection on N channels) or spreadN (one channel each, over N) */
  channels: string;
  run: number;
  opened: number;
  rssBefore: number;
  rssAfter: number;
  perConnection: number;
  heapUsedPerConnection: number;
  heapTotalPerConnection: number;
  externalPerConnection: number;
  /** RSS growth outside the V8 heap and external memory: native (uWS sockets, malloc) */
  nativePerConnection: number;
  /** Marginal cost: Theil-Sen slope of the step samples (B per connection), 0 with one step. */
  marginal: { rss: number; heapUsed: number; heapTotal: number; native: number };
  /** (opened, RSS, memoryUsage) after each step. */
  steps: { opened: number; rss: number; mem: MemoryLine }[];
  before: MemoryLine;
  after: MemoryLine;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Server ids: bc, limit, bc-jwt, each optionally with +young2 (V8 young generation capped at 2 MB per semi-space). */
const SERVER_ID = /^(bc|limit|bc-jwt)(\+young2)?$/;

/** A server id split into the server and whether its young generation is capped. */
function parseServer(server: string): { base: string; young2: boolean } {
  const m = SERVER_ID.exec(server);
  if (m === null) throw new Error(`--servers: ${server} is not bc, limit or bc-jwt (optionally with +young2)`);
  return { base: m[1]!, young2: m[2] !== undefined };
}

function serverArgs(server: string, port: number): string[] {
  const { base, young2 } = parseServer(server);
  const pre = ['--expose-gc', ...(young2 ? ['--max-semi-space-size=2'] : []), '-r', PRELOAD];
  if (base === 'bc' || base === 'bc-jwt') {
    return [
      ...pre,
      path.join(ROOT, 'dist', 'src', 'cli', 'main.js'),
      '--workers',
      '1',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--admin-port',
      '0',
      '--log-level',
      'info',
      ...(base === 'bc-jwt' ? ['--jwt-secret', BENCH_JWT_SECRET] : []),
    ];
  }
  return [...pre, path.join(ROOT, 'dist', 'loadtest', 'peers', 'limit.js'), '--port', String(port)];
}

/** Table label of a server id. */
function serverLabel(server: string): string {
  const { base, young2 } = parseServer(server);
  const name = base === 'bc' ? 'broadcaster (--workers 1, memory broker)' : base === 'bc-jwt' ? 'broadcaster + --jwt-secret, ?token=' : 'limit uWS peer';
  return young2 ? `${name}, node --max-semi-space-size=2` : name;
}

/** Sends SIGUSR2 and resolves with the next memory line the preload prints (after 1.5 s). */
async function gcAndSample(p: ServerProcess, lines: MemoryLine[]): Promise<{ rss: number; mem: MemoryLine }> {
  const before = lines.length;
  process.kill(p.pid, 'SIGUSR2');
  await sleep(1500);
  const mem = lines.length > before ? lines[lines.length - 1]! : { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  return { rss: rssBytes(p.pid), mem };
}

/** Opens `n` idle clients with at most `concurrency` handshakes in flight; resolves with them. */
async function openClients(url: (i: number) => string, n: number, concurrency: number): Promise<{ clients: WebSocket[]; failed: number }> {
  const clients: WebSocket[] = [];
  let next = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    let inFlight = 0;
    let settled = 0;
    const pump = (): void => {
      while (inFlight < concurrency && next < n) {
        const ws = new WebSocket(url(next), { perMessageDeflate: false, handshakeTimeout: 20_000 });
        next++;
        inFlight++;
        let done = false;
        const finish = (ok: boolean): void => {
          if (done) return;
          done = true;
          inFlight--;
          settled++;
          if (ok) clients.push(ws);
          else failed++;
          if (settled === n) resolve();
          else pump();
        };
        ws.on('open', () => finish(true));
        ws.on('error', () => finish(false));
        ws.on('close', () => finish(false));
      }
    };
    pump();
  });
  return { clients, failed };
}

async function measure(server: string, channels: string, run: number, n: number, concurrency: number, stepCount: number): Promise<Sample> {
  const port = await freePort();
  const lines: MemoryLine[] = [];
  const p = await startProcess({ cmd: process.execPath, args: serverArgs(server, port) }, { keepLogs: false });
  try {
    p.child.stderr!.on('data', () => {});
    // startServer keeps stderr lines in p.tail; watch for the preload's lines there
    const watch = setInterval(() => {
      for (const l of p.tail.splice(0)) {
        if (!l.includes('gc-on-signal')) continue;
        try {
          lines.push(JSON.parse(l) as MemoryLine);
        } catch {
          /* not JSON */
        }
      }
    }, 50);
    try {
      await sleep(500);
      const b = await gcAndSample(p, lines);
      const spreadOver = channels.startsWith('spread') ? Number(channels.slice(6)) : 0;
      const names = Array.from({ length: spreadOver > 0 ? 0 : Number(channels) }, (_, i) => `lt.${i}`).join(',');
      const token = parseServer(server).base === 'bc-jwt' ? `&token=${await benchToken(BENCH_JWT_SECRET)}` : '';
      const url = (i: number): string => `ws://127.0.0.1:${port}/ws?channels=${spreadOver > 0 ? `lt.${i % spreadOver}` : names}${token}`;
      const clients: WebSocket[] = [];
      const steps: Sample['steps'] = [];
      let failed = 0;
      let a = b;
      for (let k = 1; k <= stepCount; k++) {
        const target = Math.round((n * k) / stepCount);
        const offset = clients.length + failed;
        const opened = await openClients((i) => url(offset + i), target - offset, concurrency);
        clients.push(...opened.clients);
        failed += opened.failed;
        await sleep(1000);
        a = await gcAndSample(p, lines);
        steps.push({ opened: clients.length, rss: a.rss, mem: a.mem });
      }
      for (const c of clients) c.terminate();
      const opened = clients.length;
      const fit = (y: (s: Sample['steps'][number]) => number): number => slope(steps.map((s) => ({ x: s.opened, y: y(s) })));
      const per = (x: number, y: number): number => (opened > 0 ? Math.round((x - y) / opened) : 0);
      if (failed > 0) process.stdout.write(`  ${server} ${channels} ch run ${run + 1}: ${failed} client(s) failed to open\n`);
      return {
        server,
        channels,
        run,
        opened,
        rssBefore: b.rss,
        rssAfter: a.rss,
        perConnection: per(a.rss, b.rss),
        heapUsedPerConnection: per(a.mem.heapUsed, b.mem.heapUsed),
        heapTotalPerConnection: per(a.mem.heapTotal, b.mem.heapTotal),
        externalPerConnection: per(a.mem.external, b.mem.external),
        nativePerConnection: per(a.rss - a.mem.heapTotal - a.mem.external, b.rss - b.mem.heapTotal - b.mem.external),
        marginal: {
          rss: fit((s) => s.rss),
          heapUsed: fit((s) => s.mem.heapUsed),
          heapTotal: fit((s) => s.mem.heapTotal),
          native: fit((s) => s.rss - s.mem.heapTotal - s.mem.external),
        },
        steps,
        before: b.mem,
        after: a.mem,
      };
    } finally {
      clearInterval(watch);
    }
  } finally {
    await stopProcess(p.child);
  }
}

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), ['connections', 'channels', 'servers', 'repeat', 'concurrency', 'steps', 'out'], [], USAGE);
  const n = num(f, 'connections', 10_000, 1, 19_000);
  const channelCounts = str(f, 'channels', '1,100,spread100').split(',');
  for (const c of channelCounts) if (!/^(spread)?[1-9]\d*$/.test(c)) throw new Error(`--channels: ${c} is not N or spreadN`);
  const servers = str(f, 'servers', 'bc,limit').split(',');
  for (const s of servers) parseServer(s);
  const repeat = num(f, 'repeat', 3, 1, 20);
  const concurrency = num(f, 'concurrency', 200, 1, 5000);
  const stepCount = num(f, 'steps', 3, 1, 20);
  const samples: Sample[] = [];
  const startedAt = new Date().toISOString();
  for (let r = 0; r < repeat; r++) {
    for (const c of channelCounts) {
      for (const s of servers) {
        const x = await measure(s, c, r, n, concurrency, stepCount);
        samples.push(x);
        process.stdout.write(
          `${s.padEnd(5)} ${c.padStart(9)} ch run ${r + 1}: ${x.opened} open, RSS ${(x.rssBefore / 1048576).toFixed(1)} -> ${(x.rssAfter / 1048576).toFixed(1)} MiB, ` +
            `${x.perConnection} B/conn (heapUsed ${x.heapUsedPerConnection} B, heapTotal ${x.heapTotalPerConnection} B, external ${x.externalPerConnection} B, native ${x.nativePerConnection} B)` +
            (stepCount > 1
              ? `; marginal ${x.marginal.rss} B/conn (heapUsed ${x.marginal.heapUsed}, heapTotal ${x.marginal.heapTotal}, native ${x.marginal.native})`
              : '') +
            '\n',
        );
      }
    }
  }
  const fmt = (s: Spread): string => (s.min === s.max ? String(s.median) : `${s.median} (${s.min}-${s.max})`);
  process.stdout.write(
    `\n| server | channels (N each, or spreadN: 1 each of N) | connections | marginal RSS B/conn (Theil-Sen slope over ${stepCount} steps) | marginal JS heapUsed | marginal native | ` +
      `RSS B/conn from zero | JS heapUsed B/conn | JS heapTotal B/conn | external B/conn | native (RSS - heapTotal - external) B/conn |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n`,
  );
  for (const c of channelCounts) {
    for (const s of servers) {
      const g = samples.filter((x) => x.server === s && x.channels === c);
      const cell = (pick: (x: Sample) => number): string => fmt(spread(g.map(pick)));
      const marginal = (pick: (x: Sample) => number): string => (stepCount > 1 ? cell(pick) : '–');
      process.stdout.write(
        `| ${serverLabel(s)} | ${c} | ${n} | ${marginal((x) => x.marginal.rss)} | ${marginal((x) => x.marginal.heapUsed)} | ${marginal((x) => x.marginal.native)} | ` +
          `${cell((x) => x.perConnection)} | ${cell((x) => x.heapUsedPerConnection)} | ${cell((x) => x.heapTotalPerConnection)} | ` +
          `${cell((x) => x.externalPerConnection)} | ${cell((x) => x.nativePerConnection)} |\n`,
      );
    }
  }
  const out = str(f, 'out', path.join('loadtest', 'results', `idle-memory-${startedAt.replace(/[:.]/g, '-')}.json`));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), connections: n, samples }, null, 2));
  process.stdout.write(`results written to ${out}\n`);
}

void main().catch((err: Error) => {
  process.stderr.write(`idle-memory: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
