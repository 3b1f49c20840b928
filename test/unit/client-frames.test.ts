import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeFrame,
  pingFrame,
  presenceCountsFrame,
  presenceFrame,
  publishFrame,
  refreshFrame,
  subscribeFrame,
  unsubscribeFrame,
} from '../../src/client/codec';
import { encodePresenceFrame } from '../../src/presence/presence-frame';
import { decodeCommand, encodeError, encodeReply, encodeResync, encodeSubscribed } from '../../src/protocol/commands';
import { encodeSequencedEnvelope, encodeData, parseEnvelope } from '../../src/protocol/envelope';
import { Command, ErrorCode } from '../../src/protocol/opcodes';
import { buildPublicationFrame } from '../../src/protocol/publication-frame';

test('every frame the server encodes decodes to its type and fields in the SDK codec', () => {
  const envelope = encodeSequencedEnvelope(encodeData('hi'), 7, 'ep', 0);
  const view = parseEnvelope(envelope);
  assert.ok(typeof view !== 'string');
  assert.deepEqual(decodeFrame(buildPublicationFrame('news', envelope, view)), { type: 'publication', channel: 'news', offset: 7, data: 'hi' });
  assert.deepEqual(decodeFrame(encodeReply(3, { offset: 1, epoch: 'e' })), { type: 'reply', id: 3, result: { offset: 1, epoch: 'e' } });
  assert.deepEqual(decodeFrame(encodeReply(4)), { type: 'reply', id: 4, result: null });
  assert.deepEqual(decodeFrame(encodeError(null, ErrorCode.RateLimited, 'slow down')), { type: 'error', id: null, code: 109, message: 'slow down' });
  assert.deepEqual(decodeFrame(encodeSubscribed('news', { offset: 2, epoch: 'e', recovered: true })), {
    type: 'subscribed',
    channel: 'news',
    result: { offset: 2, epoch: 'e', recovered: true },
  });
  assert.deepEqual(decodeFrame(encodeResync('news', 'epoch changed')), { type: 'resync', channel: 'news', reason: 'epoch changed' });
  const ada = { client: 'n1.1', user: 'ada', info: { name: 'Ada' } };
  const anon = { client: 'n1.2', user: null, info: null };
  assert.deepEqual(decodeFrame(encodePresenceFrame('chat:1', [ada], [anon])), { type: 'presence', channel: 'chat:1', joins: [ada], leaves: [anon] });
});

test('bytes that are not a documented frame are refused', () => {
  for (const bytes of [
    Buffer.from([0xc1]),
    Buffer.from([0x93, 0x09, 0x01, 0x02]),
    Buffer.from([0x92, 0x00, 0x01]),
    encodeReply(1).subarray(0, 2),
    Buffer.from('a0', 'hex'),
  ]) {
    assert.throws(() => decodeFrame(bytes), Error, bytes.toString('hex'));
  }
});

test('the SDK command encoders write what the server decodes', () => {
  assert.deepEqual(decodeCommand(Buffer.from(subscribeFrame(1, 'a', null)), 100), {
    op: Command.Subscribe,
    id: 1,
    channel: 'a',
    since: null,
    joinLeave: false,
  });
  assert.deepEqual(decodeCommand(Buffer.from(subscribeFrame(2, 'a', { offset: 5, epoch: 'e' })), 100), {
    op: Command.Subscribe,
    id: 2,
    channel: 'a',
    since: { offset: 5, epoch: 'e' },
    joinLeave: false,
  });
  assert.deepEqual(decodeCommand(Buffer.from(unsubscribeFrame(3, 'a')), 100), { op: Command.Unsubscribe, id: 3, channel: 'a' });
  assert.deepEqual(decodeCommand(Buffer.from(publishFrame(4, 'a', 'x')), 100), { op: Command.Publish, id: 4, channel: 'a', data: 'x' });
  assert.deepEqual(decodeCommand(Buffer.from(pingFrame(5)), 100), { op: Command.Ping, id: 5 });
  assert.deepEqual(decodeCommand(Buffer.from(refreshFrame(6, 'tok')), 100), { op: Command.Refresh, id: 6, token: 'tok' });
  assert.deepEqual(decodeCommand(Buffer.from(subscribeFrame(7, 'a', null, true)), 100), {
    op: Command.Subscribe,
    id: 7,
    channel: 'a',
    since: null,
    joinLeave: true,
  });
  assert.deepEqual(decodeCommand(Buffer.from(presenceFrame(8, 'a')), 100), { op: Command.Presence, id: 8, channel: 'a' });
  assert.deepEqual(decodeCommand(Buffer.from(presenceCountsFrame(9, 'a')), 100), { op: Command.PresenceCounts, id: 9, channel: 'a' });
});
