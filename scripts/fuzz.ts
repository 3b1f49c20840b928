/**
 * Protocol fuzzer: sends random, truncated, oversized, deeply nested and mistyped frames to a
 * running server over real WebSockets, and checks after each batch that the server still
 * answers. Prints frames tried and crashes found.
 *
 *   node dist/scripts/fuzz.js --url ws://127.0.0.1:9001/ws --frames 200000 --seed 42
 */
import { decodeFrame, type ServerFrame } from '../src/client/codec';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import WebSocket from 'ws';

/** Outcome of a fuzz run. */
export interface FuzzReport {
  /** Frames sent. */
  frames: number;
  /** Connections the server closed (frames over the size limit close their connection). */
  closedByServer: number;
  /** Times the server stopped answering a ping on a fresh connection. */
  crashes: number;
  /** Replies received, by kind: ok replies, error replies, other frames. */
  answers: { ok: number; error: number; other: number };
  /** Error replies by code (the third element of `[2, id, code, message]`). */
  errorCodes: Record<number, number>;
}

const hostile = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'a'), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** Random frames of every hostile kind, as bytes. */
const frameArbitrary: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.array(hostile, { maxLength: 8 }).map((v) => pack(v)),
  fc.tuple(fc.integer({ min: 0, max: 8 }), fc.nat(), fc.string({ maxLength: 300 }), hostile, hostile).map((v) => pack(v)),
  fc.tuple(fc.array(hostile, { maxLength: 5 }), fc.nat({ max: 64 })).map(([v, cut]) => pack(v).subarray(0, cut)),
  fc.nat({ max: 20_000 }).map((depth) => Buffer.concat([Buffer.from([0x93, 0x01, 0x01]), Buffer.alloc(depth, 0x91), Buffer.from([0xc0])])),
  fc.constantFrom('db', 'c6', 'dd', 'df', 'c9').map((t) => Buffer.from(`9301${'01'}${t}ffffffff`, 'hex')),
);

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function answersPing(url: string): Promise<boolean> {
  try {
    const ws = await openSocket(url);
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 3000);
      ws.once('message', () => {
        clearTimeout(timer);
        resolve(true);
      });
      ws.send(pack([4, 1]));
    });
    ws.terminate();
    return ok;
  } catch {
    return false;
  }
}

/** Sends `frames` random frames to `url` in batches, checking liveness after each batch. */
export async function runFuzz(url: string, frames: number, seed: number, batch = 500): Promise<FuzzReport> {
  const report: FuzzReport = { frames: 0, closedByServer: 0, crashes: 0, answers: { ok: 0, error: 0, other: 0 }, errorCodes: {} };
  const samples = fc.sample(frameArbitrary, { numRuns: frames, seed });
  for (let start = 0; start < samples.length; start += batch) {
    const ws = await openSocket(url);
    ws.on('message', (d: Buffer) => {
      let frame: ServerFrame | null;
      try {
        frame = decodeFrame(d);
      } catch {
        frame = null;
      }
      if (frame?.type === 'reply') report.answers.ok++;
      else if (frame?.type === 'error') {
        report.answers.error++;
        report.errorCodes[frame.code] = (report.errorCodes[frame.code] ?? 0) + 1;
      } else report.answers.other++;
    });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    let closedEarly = false;
    ws.once('close', () => (closedEarly = true));
    for (const frame of samples.slice(start, start + batch)) {
      if (closedEarly) break;
      ws.send(frame);
      report.frames++;
    }
    // A ping at the end of the batch: its answer means every earlier frame was handled.
    if (!closedEarly) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        ws.on('message', (d: Buffer) => {
          if (d.equals(Buffer.from([0x93, 0x01, 0xce, 0xff, 0xff, 0xff, 0xff, 0xc0]))) {
            clearTimeout(timer);
            resolve();
          }
        });
        ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        ws.send(pack([4, 0xffffffff]));
      });
    }
    if (closedEarly) report.closedByServer++;
    ws.terminate();
    await closed;
    if (!(await answersPing(url))) {
      report.crashes++;
      break;
    }
  }
  return report;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'ws://127.0.0.1:9001/ws' },
      frames: { type: 'string', default: '100000' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    },
  });
  const report = await runFuzz(values.url!, Number(values.frames), Number(values.seed));
  process.stdout.write(
    `frames tried: ${report.frames}\nconnections closed by the server: ${report.closedByServer}\n` +
      `answers: ${report.answers.ok} ok, ${report.answers.error} errors, ${report.answers.other} other\n` +
      `error codes: ${JSON.stringify(report.errorCodes)}\n` +
      `crashes found: ${report.crashes}\nseed: ${values.seed}\n`,
  );
  process.exit(report.crashes === 0 ? 0 : 1);
}

if (require.main === module) void main();
