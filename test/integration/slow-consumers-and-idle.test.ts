import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { pack } from 'msgpackr';
import WebSocket from 'ws';
import { Command } from '../../src/protocol/opcodes';
import { ServerProcess } from '../helpers/server-process';
import { TestClient, httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

const BASE = ['--port', '0', '--host', '127.0.0.1'];

/** The paused/resumed TCP socket under a ws client. */
function tcp(client: TestClient): { pause(): void; resume(): void } {
  return (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
}

describe('slow consumers, catch-up limit and idle connections', { timeout: 180_000 }, () => {
  const servers: ServerProcess[] = [];
  const clients: TestClient[] = [];
  const start = async (args: string[]): Promise<ServerProcess> => {
    const s = await ServerProcess.start([...BASE, ...args]);
    servers.push(s);
    return s;
  };
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(servers.map((s) => s.stop()));
  });

  test('--slow-consumer-policy drop: a reader over --max-backpressure skips publications, stays connected and recovers them', { timeout: 60_000 }, async () => {
    const server = await start(['--slow-consumer-policy', 'drop', '--max-backpressure', '65536', '--max-message-size', '32768', '--history-size', '1000']);
    const fast = await TestClient.connect(server.wsUrl('?channels=drop:1&positions=1'));
    const slow = await TestClient.connect(server.wsUrl('?channels=drop:1&positions=1'));
    clients.push(fast, slow);
    await slow.until('position', () => slow.frames.some((f) => f[0] === 3));
    const { epoch } = slow.frames.find((f) => f[0] === 3)![2] as { epoch: string };
    tcp(slow).pause();
    const payload = (i: number): string => `${i}:${'d'.repeat(16_000)}`;
    for (let i = 1; i <= 600; i++) assert.equal((await httpPublish(server.http, 'drop:1', payload(i))).status, 200);
    assert.deepEqual((await fast.waitPublications(600)).map((p) => p.offset), Array.from({ length: 600 }, (_, i) => i + 1));
    tcp(slow).resume();
    // Publish small sentinels until one reaches the drained socket (each within a deadline).
    let sentinel = 600;
    await waitFor('a sentinel to reach the slow reader', async () => {
      sentinel++;
      await httpPublish(server.http, 'drop:1', `s${sentinel}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      return slow.publications().some((p) => String(p.data).startsWith('s'));
    }, 20_000);
    const offsets = slow.publications().map((p) => p.offset!);
    assert.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!), 'in order');
    const missing = 600 - offsets.filter((o) => o <= 600).length;
    assert.ok(missing > 0, 'publications were skipped for the slow reader');
    assert.equal(slow.closed, null, 'policy drop never closes');
    // The client answers the gap with its last contiguous position and gets exactly what it missed.
    const contiguous = offsets.findIndex((o, i) => o !== i + 1);
    const last = contiguous === -1 ? offsets.length : contiguous;
    const before = slow.publications().length;
    const [, , result] = await slow.command(Command.Subscribe, 'drop:1', last, epoch);
    assert.deepEqual(result, { offset: sentinel, epoch, recovered: true });
    const replayed = slow.publications().slice(before).map((p) => p.offset);
    assert.deepEqual(replayed, Array.from({ length: sentinel - last }, (_, i) => last + i + 1));
  });

  test('a client that falls 10,000 publications behind while catching up is disconnected', { timeout: 120_000 }, async () => {
    // Policy drop: the live path never closes a socket, so only the catch-up limit can.
    const server = await start(['--slow-consumer-policy', 'drop', '--max-message-size', '4096', '--max-backpressure', '8192',
      '--history-size', '30000', '--rate-limit-messages', '0', '--rate-limit-bytes', '0', '--client-publish', '*']); // a WebSocket publisher
    const publisher = await TestClient.connect(server.wsUrl());
    clients.push(publisher);
    const data = Buffer.alloc(4000, 7);
    const publishBatch = async (count: number): Promise<void> => {
      const first = (await publisher.command(Command.Publish, 'lag:1', data)) as [number, number, { offset: number }];
      for (let i = 1; i < count; i++) publisher.ws.send(pack([Command.Publish, 0, 'lag:1', data]));
      const last = await publisher.command(Command.Publish, 'lag:1', data);
      assert.equal((last[2] as { offset: number }).offset, first[2].offset + count);
    };
    await publishBatch(10_000);
    const { epoch } = (await (await fetch(`${server.http}/v1/channels/lag:1/history?limit=0`)).json()) as { epoch: string };
    // A bare socket that only counts what it gets: 80 MB of frames are no test log material.
    const lagging = new WebSocket(server.wsUrl());
    let received = 0;
    let answered = false;
    lagging.on('message', (d: Buffer) => {
      if (d[1] === 0x00) received++;
      else if (d[1] === 0x01) answered = true;
    });
    const closed = new Promise<number>((resolve) => lagging.once('close', (code: number) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      lagging.once('open', () => resolve());
      lagging.once('error', reject);
    });
    const socket = (lagging as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    lagging.send(pack([Command.Subscribe, 1, 'lag:1', 0, epoch]));
    // 40 MB of history cannot fit the socket while nobody reads: the catch-up waits for drains
    // while the channel moves 10,001 publications further.
    await publishBatch(10_001);
    socket.resume();
    const code = await Promise.race([closed, new Promise<string>((resolve) => setTimeout(() => resolve('still open after 60 s'), 60_000).unref())]);
    if (typeof code !== 'number') lagging.terminate();
    // 4002 with its reason; 1006 only where the close frame could not leave within 10 s (PROTOCOL.md, close codes).
    assert.ok(code === 4002 || code === 1006, `closed as a slow consumer, got ${code}`);
    assert.equal(answered, false, 'the subscribe was never answered');
    assert.ok(received < 20_000, `only part of the catch-up arrived (${received})`);
    assert.equal((await publisher.command(Command.Ping))[0], 1, 'the publisher is unaffected');
  });

  test('--idle-timeout: a client that answers no ping is closed; one that answers stays', { timeout: 60_000 }, async () => {
    const server = await start(['--idle-timeout', '8']);
    const live = await TestClient.connect(server.wsUrl());
    clients.push(live);
    const silent = new WebSocket(server.wsUrl(), { autoPong: false });
    let pings = 0;
    silent.on('ping', () => pings++);
    await new Promise<void>((resolve, reject) => {
      silent.once('open', () => resolve());
      silent.once('error', reject);
    });
    const code = await new Promise<number>((resolve) => silent.once('close', (c: number) => resolve(c)));
    assert.equal(code, 1006, 'closed without a close frame');
    assert.ok(pings >= 1, 'the server pinged before giving up');
    assert.equal(live.closed, null, 'the client answering pings is still open');
    assert.deepEqual(await live.command(Command.Ping), [1, 1, null]);
  });
});
