import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { unpack } from 'msgpackr';
import WebSocket from 'ws';
import { SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON } from '../../src/ws/slow-consumer-close';
import { ServerProcess } from '../helpers/server-process';
import { httpPublish } from '../helpers/test-client';
import { waitFor } from '../helpers/wait';

describe('slow consumer under the close policy', { timeout: 60_000 }, () => {
  test('is closed with 4002 and a reason on the current uWS build (1006 on the legacy one), after a gap-free prefix', { timeout: 60_000 }, async () => {
    const server = await ServerProcess.start([
      '--port', '0', '--host', '127.0.0.1', '--slow-consumer-policy', 'close',
      '--max-message-size', '65536', '--max-backpressure', '70000', '--memory-batch-ms', '0', '--fanout-window-ms', '0',
    ]);
    const build = server.logs.find((l) => l.msg === 'uWebSockets.js native build loaded')?.uwsBuild;
    const slow = new WebSocket(server.wsUrl('?channels=slow:1'));
    const offsets: number[] = [];
    let closed: { code: number; reason: string } | null = null;
    slow.on('message', (bytes: Buffer) => {
      const frame = unpack(bytes) as unknown[];
      if (frame[0] === 0) offsets.push(Number(frame[2]));
    });
    slow.on('close', (code, reason) => (closed = { code, reason: reason.toString() }));
    try {
      await new Promise((resolve, reject) => slow.once('open', resolve).once('error', reject));
      // The client stops reading: the kernel buffers fill, then uWS's passes maxBackpressure.
      (slow as unknown as { _socket: { pause(): void } })._socket.pause();
      const payload = Buffer.alloc(60_000, 7);
      for (let i = 0; i < 300; i++) assert.equal((await httpPublish(server.http, 'slow:1', payload)).status, 200);
      (slow as unknown as { _socket: { resume(): void } })._socket.resume();
      await waitFor('the slow client to be closed', () => closed !== null, 15_000);
      if (build === 'current') assert.deepEqual(closed, { code: SLOW_CONSUMER_CLOSE_CODE, reason: SLOW_CONSUMER_REASON });
      else assert.equal(closed!.code, 1006);
      assert.ok(offsets.length < 300, `the client was closed before getting everything (${offsets.length})`);
      // What arrived is every publication up to the client's position, so it recovers with since=.
      assert.deepEqual(offsets, offsets.map((_, i) => i + 1));
    } finally {
      slow.terminate();
      await server.stop();
    }
  });
});
