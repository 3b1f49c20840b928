import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import { pingFrame, publishFrame, subscribeFrame } from '../../src/client/codec';
import { MemoryPresenceSpace, MemoryPresenceStore } from '../../src/presence/memory-presence-store';
import { PresenceService } from '../../src/presence/presence-service';
import { ErrorCode } from '../../src/protocol/opcodes';
import { receiveCommand } from '../../src/ws/commands';
import { INTERNAL_ERROR_MESSAGE } from '../../src/ws/connection';
import { fakeProcess, settle } from './fakes/session';

/** A frame as uWS hands it to the message handler. */
const frame = (bytes: Uint8Array): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

/** A logger whose lines (level error and above) the test reads. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, logger };
}

/** Counts unhandled rejections while the test runs (one would end a real server process). */
function watchUnhandled(t: TestContext): { count: number } {
  const seen = { count: 0 };
  const listener = (): void => void seen.count++;
  process.on('unhandledRejection', listener);
  t.after(() => void process.off('unhandledRejection', listener));
  return seen;
}

test('a command whose dependency throws is answered [2, id, 500, message]; the connection and other clients go on', async (t) => {
  const unhandled = watchUnhandled(t);
  const { lines, logger } = capturingLogger();
  const p = await fakeProcess({ logger });
  t.after(p.close);
  const other = p.connect();
  receiveCommand(p.deps, other.conn, frame(subscribeFrame(1, 'c', null)));
  await settle();
  const hold = p.hub.hold.bind(p.hub);
  p.hub.hold = () => {
    throw new TypeError("Cannot read properties of undefined (reading 'subscribe')");
  };
  const { conn, socket } = p.connect();
  receiveCommand(p.deps, conn, frame(subscribeFrame(7, 'c', null)));
  await settle();
  assert.deepEqual(socket.frames, [[2, 7, ErrorCode.Internal, INTERNAL_ERROR_MESSAGE]]);
  assert.equal(socket.closedWith, null, 'the connection stays open');
  assert.equal(conn.subscriptionCount, 0, 'the failed subscribe left nothing counted');
  assert.ok(!conn.isPending('c'));
  assert.deepEqual([p.stats.internalErrors, p.stats.commandErrors], [1, 1]);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.level, 50, 'logged at error');
  assert.deepEqual([lines[0]?.op, lines[0]?.channel, lines[0]?.id], ['subscribe', 'c', 7]);
  assert.match(String((lines[0]!.err as { message?: unknown }).message), /reading 'subscribe'/, 'the log has the error');
  p.hub.hold = hold;
  receiveCommand(p.deps, conn, frame(pingFrame(8)));
  receiveCommand(p.deps, conn, frame(subscribeFrame(9, 'c', null)));
  await settle();
  assert.deepEqual(socket.frames.slice(1), [
    [1, 8, null],
    [1, 9, null],
  ]);
  await p.broker.publish('c', 'after');
  assert.deepEqual(socket.frames.at(-1), [0, 'c', null, 'after'], 'the connection receives publications again');
  assert.deepEqual(other.socket.frames, [
    [1, 1, null],
    [0, 'c', null, 'after'],
  ]);
  assert.equal(unhandled.count, 0);
});

test('a rejected promise in a command path (presence join) is answered with 500 instead of escaping', async (t) => {
  const unhandled = watchUnhandled(t);
  const { lines, logger } = capturingLogger();
  const presence = new PresenceService(new MemoryPresenceStore(60_000, new MemoryPresenceSpace()), ['room:'], { publish: () => true }, logger, 60_000);
  const p = await fakeProcess({ logger, presence });
  t.after(async () => {
    await presence.stop();
    await p.close();
  });
  presence.join = () => Promise.reject(new TypeError('presence batch is not iterable'));
  const { conn, socket } = p.connect();
  receiveCommand(p.deps, conn, frame(subscribeFrame(3, 'room:1', null)));
  await settle();
  await settle();
  assert.deepEqual(socket.frames, [[2, 3, ErrorCode.Internal, INTERNAL_ERROR_MESSAGE]]);
  assert.equal(socket.closedWith, null);
  assert.equal(p.stats.internalErrors, 1);
  assert.deepEqual([lines[0]?.op, lines[0]?.channel, lines[0]?.id], ['subscribe', 'room:1', 3]);
  receiveCommand(p.deps, conn, frame(pingFrame(4)));
  await settle();
  assert.deepEqual(socket.frames.at(-1), [1, 4, null]);
  assert.equal(unhandled.count, 0);
});

test('a broker that throws while publishing, and a failure before the frame is decoded, are answered with 500', async (t) => {
  const unhandled = watchUnhandled(t);
  const { lines, logger } = capturingLogger();
  const p = await fakeProcess({ logger }, { clientPublish: ['chat:*'] });
  t.after(p.close);
  const { conn, socket } = p.connect();
  const publish = p.deps.broker.publish;
  p.deps.broker.publish = () => {
    throw new TypeError('data.subarray is not a function');
  };
  receiveCommand(p.deps, conn, frame(publishFrame(5, 'chat:1', 'hi')));
  await settle();
  assert.deepEqual(socket.frames, [[2, 5, ErrorCode.Internal, INTERNAL_ERROR_MESSAGE]]);
  assert.deepEqual([lines[0]?.op, lines[0]?.channel], ['publish', 'chat:1']);
  p.deps.broker.publish = publish;
  const rate = p.deps.security.rate;
  const take = rate.take;
  rate.take = () => {
    throw new RangeError('bucket out of range');
  };
  receiveCommand(p.deps, conn, frame(pingFrame(6)));
  assert.deepEqual(socket.frames.at(-1), [2, null, ErrorCode.Internal, INTERNAL_ERROR_MESSAGE], 'the frame was not read: id nil');
  assert.deepEqual([lines[1]?.op, lines[1]?.channel, lines[1]?.id], [null, null, null]);
  rate.take = take;
  receiveCommand(p.deps, conn, frame(publishFrame(7, 'chat:1', 'hi')));
  await settle();
  assert.deepEqual(socket.frames.at(-1), [1, 7, null], 'the next publish is accepted');
  assert.equal(socket.closedWith, null);
  assert.deepEqual([p.stats.internalErrors, p.stats.publishedWs], [2, 1]);
  assert.equal(unhandled.count, 0);
});
