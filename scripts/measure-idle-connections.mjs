#!/usr/bin/env node
// Measures the server's memory per idle WebSocket connection: starts one broadcaster process
// (in-memory broker), reads its RSS and fd count, opens N clients each subscribed to one of C
// channels, reads them again, and prints the difference per connection.
//
//   node scripts/measure-idle-connections.mjs [--connections 5000] [--channels 100] [--cli dist/src/cli/main.js]
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');
const { values } = parseArgs({ options: { connections: { type: 'string', default: '5000' }, channels: { type: 'string', default: '100' }, cli: { type: 'string', default: new URL('../dist/src/cli/main.js', import.meta.url).pathname } } });
const total = Number(values.connections);
const channels = Number(values.channels);

const proc = spawn(process.execPath, [values.cli, '--workers', '1', '--port', '0', '--host', '127.0.0.1', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  createInterface({ input: proc.stdout }).on('line', (line) => {
    try {
      const log = JSON.parse(line);
      if (log.msg === 'listening') resolve(log.port);
    } catch {}
  });
  proc.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});
const sample = () => {
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))[1]) * 1024;
  return { rss, fds: readdirSync(`/proc/${proc.pid}/fd`).length };
};
const settle = () => new Promise((r) => setTimeout(r, 1500));

await settle();
const before = sample();
const sockets = [];
for (let i = 0; i < total; i += 200) {
  const batch = [];
  for (let j = i; j < Math.min(total, i + 200); j++) {
    batch.push(new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?channels=idle:${j % channels}`, { perMessageDeflate: false });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    }));
  }
  sockets.push(...(await Promise.all(batch)));
}
await settle();
const after = sample();
console.log(JSON.stringify({
  node: process.version,
  connections: total,
  channels,
  rssBeforeMiB: +(before.rss / 2 ** 20).toFixed(1),
  rssAfterMiB: +(after.rss / 2 ** 20).toFixed(1),
  rssPerConnectionKiB: +((after.rss - before.rss) / total / 1024).toFixed(2),
  fdsBefore: before.fds,
  fdsAfter: after.fds,
}));
for (const ws of sockets) ws.terminate();
proc.kill('SIGTERM');
await new Promise((r) => proc.once('exit', r));
