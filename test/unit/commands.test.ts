import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pack, unpack } from 'msgpackr';
import { decodeCommand, encodeError, encodeReply, encodeResync, encodeSubscribed } from '../../src/protocol/commands';
import { Command, ErrorCode } from '../../src/protocol/opcodes';
import { ProtocolError } from '../../src/protocol/protocol-error';

const LIMIT = 1000;

function fails(bytes: Uint8Array, code: number, id: number | null, message: RegExp): void {
  assert.throws(
    () => decodeCommand(bytes, LIMIT),
    (err: unknown) => err instanceof ProtocolError && err.code === code && err.requestId === id && message.test(err.message),
  );
}

test('decodes every command', () => {
  assert.deepEqual(decodeCommand(pack([1, 7, 'news']), LIMIT), { op: Command.Subscribe, id: 7, channel: 'news', since: null, joinLeave: false });
  assert.deepEqual(decodeCommand(pack([1, 7, 'news', 42, 'abc']), LIMIT), { op: Command.Subscribe, id: 7, channel: 'news', since: { offset: 42, epoch: 'abc' }, joinLeave: false });
  assert.deepEqual(decodeCommand(pack([1, 7, 'news', 2 ** 40, 'abc']), LIMIT), { op: Command.Subscribe, id: 7, channel: 'news', since: { offset: 2 ** 40, epoch: 'abc' }, joinLeave: false });
  assert.deepEqual(decodeCommand(pack([1, 7, 'chat:1', 1]), LIMIT), { op: Command.Subscribe, id: 7, channel: 'chat:1', since: null, joinLeave: true });
  assert.deepEqual(decodeCommand(pack([1, 7, 'chat:1', 3, 'e', 1]), LIMIT), { op: Command.Subscribe, id: 7, channel: 'chat:1', since: { offset: 3, epoch: 'e' }, joinLeave: true });
  assert.deepEqual(decodeCommand(pack([6, 10, 'chat:1']), LIMIT), { op: Command.Presence, id: 10, channel: 'chat:1' });
  assert.deepEqual(decodeCommand(pack([7, 11, 'chat:1']), LIMIT), { op: Command.PresenceCounts, id: 11, channel: 'chat:1' });
  assert.deepEqual(decodeCommand(pack([2, 8, 'news']), LIMIT), { op: Command.Unsubscribe, id: 8, channel: 'news' });
  assert.deepEqual(decodeCommand(pack([3, 9, 'news', Buffer.from('x')]), LIMIT), { op: Command.Publish, id: 9, channel: 'news', data: Buffer.from('x') });
  assert.deepEqual(decodeCommand(pack([3, 9, 'news', 'text']), LIMIT), { op: Command.Publish, id: 9, channel: 'news', data: 'text' });
  assert.deepEqual(decodeCommand(pack([4, 0xffffffff]), LIMIT), { op: Command.Ping, id: 0xffffffff });
});

test('documented hex examples decode as the protocol document says', () => {
  assert.deepEqual(decodeCommand(Buffer.from('930101a46e657773', 'hex'), LIMIT), { op: Command.Subscribe, id: 1, channel: 'news', since: null, joinLeave: false });
  assert.deepEqual(decodeCommand(Buffer.from('950106a46e657773 05 a3616263'.replace(/ /g, ''), 'hex'), LIMIT), {
    op: Command.Subscribe, id: 6, channel: 'news', since: { offset: 5, epoch: 'abc' }, joinLeave: false,
  });
  assert.deepEqual(decodeCommand(Buffer.from('940302a46e657773c4026869', 'hex'), LIMIT), { op: Command.Publish, id: 2, channel: 'news', data: Buffer.from('hi') });
  assert.deepEqual(decodeCommand(Buffer.from('920403', 'hex'), LIMIT), { op: Command.Ping, id: 3 });
});

test('malformed frames get BadRequest without a request id', () => {
  fails(Buffer.from([0xd9]), ErrorCode.BadRequest, null, /msgpack/);
  fails(pack('hello'), ErrorCode.BadRequest, null, /array/);
  fails(pack([1]), ErrorCode.BadRequest, null, /array/);
  fails(pack({ 0: 1, 1: 2 }), ErrorCode.BadRequest, null, /array/);
  fails(pack([1, -1, 'news']), ErrorCode.BadRequest, null, /request id/);
  fails(pack([1, 1.5, 'news']), ErrorCode.BadRequest, null, /request id/);
  fails(pack([1, 'x', 'news']), ErrorCode.BadRequest, null, /request id/);
  fails(pack([1, 2 ** 32, 'news']), ErrorCode.BadRequest, null, /request id/);
});

test('field errors carry the request id and the documented code', () => {
  fails(pack([9, 5]), ErrorCode.UnknownCommand, 5, /unknown opcode 9/);
  fails(pack(['sub', 5]), ErrorCode.UnknownCommand, 5, /unknown opcode/);
  fails(pack([1, 5]), ErrorCode.BadRequest, 5, /subscribe takes 3 elements/);
  fails(pack([1, 5, 'a', 'b']), ErrorCode.BadRequest, 5, /subscribe flags must be 0 or 1/);
  fails(pack([1, 5, 'a', 1, 'e', 2]), ErrorCode.BadRequest, 5, /subscribe flags must be 0 or 1/);
  fails(pack([1, 5, 'a', 1, 'e', 1, 0]), ErrorCode.BadRequest, 5, /subscribe takes 3 elements/);
  fails(pack([6, 5]), ErrorCode.BadRequest, 5, /^presence takes 3 elements, got 2$/);
  fails(pack([7, 5]), ErrorCode.BadRequest, 5, /^presence counts takes 3 elements, got 2$/);
  fails(pack([7, 5, 'bad channel']), ErrorCode.InvalidChannel, 5, /may only contain/);
  fails(pack([1, 5, 'a', -1, 'e']), ErrorCode.BadRequest, 5, /offset must be an unsigned integer/);
  fails(pack([1, 5, 'a', 1.5, 'e']), ErrorCode.BadRequest, 5, /offset must be an unsigned integer/);
  fails(pack([1, 5, 'a', 1, '']), ErrorCode.BadRequest, 5, /epoch must be a string/);
  fails(pack([1, 5, 'a', 1, 'e'.repeat(65)]), ErrorCode.BadRequest, 5, /epoch must be a string of 1-64/);
  fails(pack([1, 5, 42]), ErrorCode.BadRequest, 5, /string/);
  fails(pack([1, 5, 'bad channel']), ErrorCode.InvalidChannel, 5, /may only contain/);
  fails(pack([2, 5, '']), ErrorCode.InvalidChannel, 5, /empty/);
  fails(pack([3, 5, 'news']), ErrorCode.BadRequest, 5, /publish takes 4/);
  fails(pack([3, 5, 'news', 42]), ErrorCode.BadRequest, 5, /bin or str/);
  fails(pack([3, 5, 'news', Buffer.alloc(LIMIT + 1)]), ErrorCode.MessageTooLarge, 5, /1001 bytes, the limit is 1000/);
  fails(pack([3, 5, 'news', 'é'.repeat(501)]), ErrorCode.MessageTooLarge, 5, /1002 bytes/);
  fails(pack([4, 5, 'extra']), ErrorCode.BadRequest, 5, /ping takes 2/);
});

test('data exactly at the limit is accepted', () => {
  const cmd = decodeCommand(pack([3, 1, 'news', Buffer.alloc(LIMIT)]), LIMIT);
  assert.equal(cmd.op, Command.Publish);
});

test('replies encode as [1, id, result] and [2, id, code, message]', () => {
  assert.deepEqual(encodeReply(3), Buffer.from('930103c0', 'hex'));
  assert.deepEqual(unpack(encodeReply(3, { a: 1 })), [1, 3, { a: 1 }]);
  assert.deepEqual(unpack(encodeError(4, ErrorCode.InvalidChannel, 'bad')), [2, 4, 102, 'bad']);
  assert.deepEqual(unpack(encodeError(null, ErrorCode.BadRequest, 'x')), [2, null, 100, 'x']);
});

test('refresh: [5, id, token] with a non-empty str token', () => {
  assert.deepEqual(decodeCommand(pack([5, 7, 'eyJ...']), LIMIT), { op: Command.Refresh, id: 7, token: 'eyJ...' });
  fails(pack([5, 7]), ErrorCode.BadRequest, 7, /^refresh takes 3 elements, got 2$/);
  fails(pack([5, 7, 'a', 'b']), ErrorCode.BadRequest, 7, /^refresh takes 3 elements, got 4$/);
  fails(pack([5, 7, '']), ErrorCode.BadRequest, 7, /^refresh takes \[5, id, token\] with the token as a msgpack str$/);
  fails(pack([5, 7, Buffer.from('tok')]), ErrorCode.BadRequest, 7, /token as a msgpack str/);
});

test('boundaries: id 0, offset 0, a 64-character epoch, uint64 offsets, exact lengths', () => {
  assert.deepEqual(decodeCommand(pack([4, 0]), LIMIT), { op: Command.Ping, id: 0 });
  assert.deepEqual(decodeCommand(pack([1, 1, 'a', 0, 'e'.repeat(64)]), LIMIT), { op: Command.Subscribe, id: 1, channel: 'a', since: { offset: 0, epoch: 'e'.repeat(64) }, joinLeave: false });
  assert.deepEqual(decodeCommand(pack([1, 1, 'a', 1, 'e']), LIMIT), { op: Command.Subscribe, id: 1, channel: 'a', since: { offset: 1, epoch: 'e' }, joinLeave: false });
  // A uint64 offset: msgpackr may decode it as a BigInt; up to 2^53 it is accepted, beyond refused.
  const frame = (hi: number, lo: number): Buffer => {
    const b = Buffer.from('950101a161cf0000000000000000a165', 'hex');
    b.writeUInt32BE(hi, 6);
    b.writeUInt32BE(lo, 10);
    return b;
  };
  assert.deepEqual(decodeCommand(frame(0x1000, 5), LIMIT), { op: Command.Subscribe, id: 1, channel: 'a', since: { offset: 0x1000 * 2 ** 32 + 5, epoch: 'e' }, joinLeave: false });
  fails(frame(0xffffffff, 0), ErrorCode.BadRequest, 1, /^offset must be an unsigned integer$/);
  fails(pack([1, 5, 'a', 1, 7]), ErrorCode.BadRequest, 5, /^epoch must be a string of 1-64 characters$/);
  fails(pack([1, 5, 'a', '1', 'e']), ErrorCode.BadRequest, 5, /^offset must be an unsigned integer$/);
  fails(pack([1, 5, 'a', 1, 'e', 'x']), ErrorCode.BadRequest, 5, /^subscribe flags must be 0 or 1/);
  fails(pack([1, 5, 'a', 1, 'e', 0, 'x']), ErrorCode.BadRequest, 5, /got 7$/);
  fails(pack([2, 5]), ErrorCode.BadRequest, 5, /^unsubscribe takes 3 elements, got 2$/);
  fails(pack([2, 5, 'a', 'b']), ErrorCode.BadRequest, 5, /^unsubscribe takes 3 elements, got 4$/);
  fails(pack([2, 5, 7]), ErrorCode.BadRequest, 5, /^channel must be a string$/);
  fails(pack([3, 5, 'a', 'x', 'y']), ErrorCode.BadRequest, 5, /^publish takes 4 elements, got 5$/);
  fails(pack([3, 5, 7, 'x']), ErrorCode.BadRequest, 5, /^channel must be a string$/);
  fails(pack([3, 5, 'a b', 'x']), ErrorCode.InvalidChannel, 5, /may only contain/);
  fails(pack([4, 5, 'x', 'y']), ErrorCode.BadRequest, 5, /^ping takes 2 elements, got 4$/);
  fails(pack([0, 5]), ErrorCode.UnknownCommand, 5, /^unknown opcode 0$/);
  fails(pack([8, 5]), ErrorCode.UnknownCommand, 5, /^unknown opcode 8$/);
  fails(pack([1, 0xffffffff + 1, 'a']), ErrorCode.BadRequest, null, /^request id must be an unsigned 32-bit integer$/);
  assert.deepEqual(decodeCommand(pack([3, 1, 'a', 'é'.repeat(500)]), LIMIT).op, Command.Publish, '1000 bytes of text is at the limit');
  fails(pack([3, 1, 'a', 'x'.repeat(LIMIT + 1)]), ErrorCode.MessageTooLarge, 1, /^data is 1001 bytes, the limit is 1000$/);
});

test('shape and decoding errors: the messages of the documented answers', () => {
  fails(Buffer.alloc(0), ErrorCode.BadRequest, null, /^frame is empty$/);
  fails(Buffer.from('9101', 'hex').subarray(0, 1), ErrorCode.BadRequest, null, /^frame is truncated$/);
  fails(pack([1, 1, [1]]), ErrorCode.BadRequest, null, /must be a scalar/);
  fails(Buffer.from('90', 'hex'), ErrorCode.BadRequest, null, /^frame must be a msgpack array \[opcode, id, \.\.\.\]$/);
  fails(Buffer.from('91c1', 'hex'), ErrorCode.BadRequest, null, /must be a scalar/);
  assert.deepEqual(unpack(encodeError(null, ErrorCode.BadRequest, 'frame must be a msgpack array [opcode, id, ...]')).slice(0, 3), [2, null, 100]);
});

test('result and resync frames, and the error class', () => {
  assert.deepEqual(unpack(encodeSubscribed('news', { offset: 5, epoch: 'abc', recovered: true })), [3, 'news', { offset: 5, epoch: 'abc', recovered: true }]);
  assert.deepEqual(unpack(encodeResync('news', 'epoch changed')), [4, 'news', 'epoch changed']);
  const err = new ProtocolError(ErrorCode.BadRequest, 'm');
  assert.deepEqual([err.name, err.code, err.requestId, err.message], ['ProtocolError', 100, null, 'm']);
});
