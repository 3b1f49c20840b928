import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeServerFrame, encodePing, encodePublish, encodeRefresh, encodeSubscribe, encodeUnsubscribe } from '../../src/client/frames';
import { decodeCommand, encodeError, encodeReply, encodeResync, encodeSubscribed } from '../../src/protocol/commands';
import { encodeSequencedEnvelope, encodeData, parseEnvelope } from '../../src/protocol/envelope';
import { Command, ErrorCode, Frame } from '../../src/protocol/opcodes';
import { buildPublicationFrame } from '../../src/protocol/publication-frame';

test('every server frame decodes to its kind and fields', () => {
  const envelope = encodeSequencedEnvelope(encodeData('hi'), 7, 'ep', 0);
  const view = parseEnvelope(envelope);
  assert.ok(typeof view !== 'string');
  assert.deepEqual(decodeServerFrame(buildPublicationFrame('news', envelope, view)), { kind: Frame.Publication, channel: 'news', offset: 7, data: 'hi' });
  assert.deepEqual(decodeServerFrame(encodeReply(3, { offset: 1, epoch: 'e' })), { kind: Frame.Reply, id: 3, result: { offset: 1, epoch: 'e' } });
  assert.deepEqual(decodeServerFrame(encodeReply(4)), { kind: Frame.Reply, id: 4, result: null });
  assert.deepEqual(decodeServerFrame(encodeError(null, ErrorCode.RateLimited, 'slow down')), { kind: Frame.Error, id: null, code: 109, message: 'slow down' });
  assert.deepEqual(decodeServerFrame(encodeSubscribed('news', { offset: 2, epoch: 'e', recovered: true })), {
    kind: Frame.Subscribed,
    channel: 'news',
    result: { offset: 2, epoch: 'e', recovered: true },
  });
  assert.deepEqual(decodeServerFrame(encodeResync('news', 'epoch changed')), { kind: Frame.Resync, channel: 'news', reason: 'epoch changed' });
});

test('bytes that are not a documented frame decode to null', () => {
  for (const bytes of [
    Buffer.from([0xc1]),
    Buffer.from([0x93, 0x09, 0x01, 0x02]),
    Buffer.from([0x92, 0x00, 0x01]),
    encodeReply(1).subarray(0, 2),
    Buffer.from('a0', 'hex'),
  ]) {
    assert.equal(decodeServerFrame(bytes), null, bytes.toString('hex'));
  }
});

test('the command encoders write what the server decodes', () => {
  assert.deepEqual(decodeCommand(encodeSubscribe(1, 'a'), 100), { op: Command.Subscribe, id: 1, channel: 'a', since: null });
  assert.deepEqual(decodeCommand(encodeSubscribe(2, 'a', { offset: 5, epoch: 'e' }), 100), {
    op: Command.Subscribe,
    id: 2,
    channel: 'a',
    since: { offset: 5, epoch: 'e' },
  });
  assert.deepEqual(decodeCommand(encodeUnsubscribe(3, 'a'), 100), { op: Command.Unsubscribe, id: 3, channel: 'a' });
  assert.deepEqual(decodeCommand(encodePublish(4, 'a', 'x'), 100), { op: Command.Publish, id: 4, channel: 'a', data: 'x' });
  assert.deepEqual(decodeCommand(encodePing(5), 100), { op: Command.Ping, id: 5 });
  assert.deepEqual(decodeCommand(encodeRefresh(6, 'tok'), 100), { op: Command.Refresh, id: 6, token: 'tok' });
});
