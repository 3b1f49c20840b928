import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pack } from 'msgpackr';
import WebSocket from 'ws';
import { Command, ErrorCode } from '../../src/protocol/opcodes';
import { ServerProcess } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

type Refusal = Error & { status?: number; body?: string };
const BASE = ['--port', '0', '--host', '127.0.0.1'];

/** Opens a WebSocket from `localAddress`; resolves with the open socket or the refusal's HTTP status. */
function open(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

describe('limits and replayed attacks', { timeout: 240_000 }, () => {
  const servers: ServerProcess[] = [];
  const sockets: WebSocket[] = [];
  const start = async (args: string[]): Promise<ServerProcess> => {
    const s = await ServerProcess.start([...BASE, ...args]);
    servers.push(s);
    return s;
  };
  after(async () => {
    for (const ws of sockets) ws.terminate();
    await Promise.allSettled(servers.map((s) => s.stop()));
  });

  test('HTTP API keys: 401 without, 403 wrong, 200 right (publish and history)', { timeout: 60_000 }, async () => {
    const server = await start(['--api-key', 'key-one', '--api-key', 'key-two']);
    const post = (auth?: string) =>
      fetch(`${server.http}/v1/channels/k:1/publish`, { method: 'POST', body: 'x', headers: auth === undefined ? {} : { authorization: auth } });
    const none = await post();
    assert.deepEqual([none.status, ((await none.json()) as { error: string }).error, none.headers.get('www-authenticate')], [401, 'unauthorized', 'Bearer']);
    const wrong = await post('Bearer key-three');
    assert.deepEqual([wrong.status, ((await wrong.json()) as { error: string }).error], [403, 'forbidden']);
    assert.equal((await post('Basic a2V5LW9uZQ==')).status, 401);
    assert.equal((await post('Bearer key-one')).status, 200);
    assert.equal((await post('bearer key-two')).status, 200);
    assert.equal((await fetch(`${server.http}/v1/channels/k:1/history`)).status, 401);
    assert.equal((await fetch(`${server.http}/v1/channels/k:1/history`, { headers: { authorization: 'Bearer key-two' } })).status, 200);
    assert.equal((await fetch(`${server.http}/healthz`)).status, 200, 'health needs no key');
  });

  test('origin allowlist at the upgrade; requests without Origin pass', { timeout: 60_000 }, async () => {
    const server = await start(['--allowed-origins', 'https://app.example.com']);
    assert.equal(await open(server.wsUrl(), { origin: 'https://evil.example.com' }), 403);
    const good = await open(server.wsUrl(), { origin: 'https://app.example.com' });
    const noOrigin = await open(server.wsUrl());
    assert.ok(good instanceof WebSocket && noOrigin instanceof WebSocket);
    sockets.push(good as WebSocket, noOrigin as WebSocket);
  });

  test('per-connection rate limit: a burst of exactly twice --rate-limit-messages, then error 109 with a nil id', { timeout: 30_000 }, async () => {
    // 5 per second: a burst of 10; the 20 frames arrive within milliseconds, far from the next token (200 ms).
    const server = await start(['--rate-limit-messages', '5']);
    const client = await TestClient.connect(server.wsUrl());
    for (let i = 1; i <= 20; i++) client.ws.send(pack([Command.Ping, i]));
    await client.until('20 answers', () => client.frames.length === 20);
    assert.deepEqual(client.frames.slice(0, 10), Array.from({ length: 10 }, (_, i) => [1, i + 1, null]), 'the burst is answered in order');
    for (const frame of client.frames.slice(10)) {
      assert.deepEqual(frame, [2, null, ErrorCode.RateLimited, 'too many commands or bytes per second: command dropped; slow down']);
    }
    // Tokens come back at 5 per second: poll with a deadline until one is there.
    let reply: unknown[] = [];
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      reply = await client.command(Command.Ping);
      if (reply[0] === 1) break;
    }
    assert.equal(reply[0], 1, 'tokens refill');
    assert.equal(client.closed, null);
    await client.close();
  });

  test('per-connection byte limit: a burst of exactly twice --rate-limit-bytes, then error 109', { timeout: 30_000 }, async () => {
    // --client-publish '*': the burst is made of WebSocket publishes (client publishing is off by default).
    const server = await start(['--rate-limit-messages', '0', '--rate-limit-bytes', '1000', '--client-publish', '*']);
    const client = await TestClient.connect(server.wsUrl());
    const frame = (id: number): Buffer => pack([Command.Publish, id, 'bytes:1', Buffer.alloc(480)]);
    const size = frame(1).length;
    assert.ok(size > 400 && size <= 500, `a frame of ${size} bytes: four fit in the 2000-byte burst, not five`);
    for (let i = 1; i <= 8; i++) client.ws.send(frame(i));
    await client.until('8 answers', () => client.frames.length === 8);
    const ok = client.frames.filter((f) => f[0] === 1).map((f) => f[1]).sort();
    assert.deepEqual(ok, [1, 2, 3, 4]);
    const limited = client.frames.filter((f) => f[0] === 2);
    assert.deepEqual(limited.map((f) => f.slice(0, 3)), Array.from({ length: 4 }, () => [2, null, ErrorCode.RateLimited]));
    assert.equal(client.closed, null);
    await client.close();
  });

  test('flood of connections from one address: over --max-connections-per-ip get 429, others still connect', { timeout: 60_000 }, async () => {
    const server = await start(['--max-connections-per-ip', '20']);
    const results = await Promise.all(Array.from({ length: 100 }, () => open(server.wsUrl(), { localAddress: '127.0.0.1' })));
    const opened = results.filter((r): r is WebSocket => r instanceof WebSocket);
    sockets.push(...opened);
    assert.equal(opened.length, 20);
    assert.ok(results.filter((r) => r !== 429).length === 20, 'every other attempt got 429');
    const other = await open(server.wsUrl(), { localAddress: '127.0.0.2' });
    assert.ok(other instanceof WebSocket, 'another address is unaffected');
    sockets.push(other as WebSocket);
    for (const ws of opened) ws.close();
    await waitFor('slots freed', async () => (await open(server.wsUrl(), { localAddress: '127.0.0.1' }).then((r) => (r instanceof WebSocket ? (sockets.push(r), true) : false))));
  });

  test('--max-connections caps the process with 503', { timeout: 60_000 }, async () => {
    const server = await start(['--max-connections', '3']);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await open(server.wsUrl()));
    sockets.push(...results.filter((r): r is WebSocket => r instanceof WebSocket));
    assert.deepEqual(results.map((r) => (r instanceof WebSocket ? 'open' : r)), ['open', 'open', 'open', 503, 503]);
  });

  test('thousands of headers (ws CVE-2024-37890): the request is dropped, the server carries on', { timeout: 60_000 }, async () => {
    const server = await start([]);
    const closed = await new Promise<string>((resolve) => {
      const socket = netConnect(server.port, '127.0.0.1', () => {
        let request = 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
        for (let i = 0; i < 3000; i++) request += `X-Header-${i}: value\r\n`;
        socket.write(`${request}\r\n`);
      });
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', () => {});
    });
    assert.doesNotMatch(closed, /101 Switching Protocols/);
    assert.equal((await fetch(`${server.http}/healthz`)).status, 200);
  });

  test('a handshake that never completes (slowloris) is closed by the server', { timeout: 60_000 }, async () => {
    const server = await start([]);
    const started = Date.now();
    const elapsed = await new Promise<number>((resolve) => {
      const socket = netConnect(server.port, '127.0.0.1', () => {
        const request = 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n';
        let i = 0;
        const timer = setInterval(() => socket.write(request[i++ % request.length]!), 300);
        socket.on('close', () => {
          clearInterval(timer);
          resolve(Date.now() - started);
        });
      });
      socket.on('error', () => {});
    });
    assert.ok(elapsed < 20_000, `closed after ${elapsed} ms`);
    assert.equal((await fetch(`${server.http}/healthz`)).status, 200);
  });

  test('deflate bomb with compression on: an inflated frame over the limit closes only that connection', { timeout: 60_000 }, async () => {
    const server = await start(['--compression', 'shared', '--max-message-size', '4096']);
    const good = await TestClient.connect(server.wsUrl('?channels=bomb:1'));
    const bomber = new WebSocket(server.wsUrl(), { perMessageDeflate: { threshold: 0 } });
    await new Promise<void>((resolve) => bomber.once('open', () => resolve()));
    assert.match(bomber.extensions, /permessage-deflate/);
    const code = await new Promise<number>((resolve) => {
      bomber.once('close', (c: number) => resolve(c));
      // 16 MiB of zeros deflates to about 16 KB on the wire.
      bomber.send(Buffer.alloc(16 * 1024 * 1024));
    });
    assert.ok(code === 1006 || code === 1009, `closed with ${code}`);
    assert.equal((await httpPublish(server.http, 'bomb:1', 'still here')).status, 200);
    assert.deepEqual((await good.waitPublications(1))[0]!.data, Buffer.from('still here'));
    await good.close();
  });

  test('TLS: wss:// and https:// with a self-signed certificate made here', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bc-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const server = await start(['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
    assert.equal(server.logs.find((l) => l.msg === 'listening')?.tls, true);
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}/ws?channels=tls:1`, { rejectUnauthorized: false });
    const received = new Promise<Buffer>((resolve) => ws.once('message', (d: Buffer) => resolve(d)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const res = await fetch(`https://127.0.0.1:${server.port}/v1/channels/tls:1/publish`, { method: 'POST', body: 'secure' });
      assert.equal(res.status, 200);
    } finally {
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
    }
    assert.ok((await received).includes(Buffer.from('secure')));
    ws.close();
    const plain = await fetch(`http://127.0.0.1:${server.port}/healthz`).then(() => 'answered', () => 'refused');
    assert.equal(plain, 'refused', 'no plain HTTP on a TLS port');
  });

  test('bad TLS and key options stop the process with a message naming the option', { timeout: 60_000 }, async () => {
    await assert.rejects(ServerProcess.start([...BASE, '--tls-cert', '/nonexistent.pem', '--tls-key', '/nonexistent.pem']), /cannot read tlsCert file/);
    await assert.rejects(ServerProcess.start([...BASE, '--jwt-secret', 'short']), /too short/);
    await assert.rejects(ServerProcess.start([...BASE, '--anonymous', 'deny']), /would refuse every client/);
    const refused: Refusal = await ServerProcess.start([...BASE, '--jwt-secret', 'x'.repeat(40), '--anonymous', 'allow']).then(() => new Error('started'), (e: Refusal) => e);
    assert.match(refused.message, /cannot be combined/);
  });
});
