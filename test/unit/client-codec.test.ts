import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { decodeFrame, publishFrame, readSubscribeResult, refreshFrame, subscribeFrame } from '../../src/client/codec';
import { fromWireData, toWireData } from '../../src/client/data';
import { decode, encode } from '../../src/client/msgpack';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

// Values both codecs represent the same way: no undefined, no -0, integers within the safe range.
const value = fc.letrec((tie) => ({
  any: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.string({ unit: 'grapheme' }),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('any'), { maxLength: 20 }),
    fc.dictionary(
      fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'),
      tie('any'),
      { maxKeys: 20 },
    ),
  ),
})).any;

function normalise(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v); // msgpackr reads 64-bit integers as BigInt
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  if (Array.isArray(v)) return v.map(normalise);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}

test('the SDK codec decodes what the server codec (msgpackr) encodes, and the other way round', () => {
  fc.assert(
    fc.property(value, (v) => {
      assert.deepEqual(normalise(decode(pack(v))), normalise(v));
      assert.deepEqual(normalise(unpack(Buffer.from(encode(v)))), normalise(v));
    }),
    { numRuns: 500 },
  );
});

test('integer boundaries and 64-bit offsets survive both ways', () => {
  for (const n of [
    0,
    127,
    128,
    255,
    256,
    65535,
    65536,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 53 - 1,
    -1,
    -32,
    -33,
    -128,
    -129,
    -32768,
    -32769,
    -(2 ** 31),
    -(2 ** 31) - 1,
    -(2 ** 53 - 1),
  ]) {
    assert.equal(decode(encode(n)), n, `encode/decode ${n}`);
    assert.equal(decode(pack(n)), n, `msgpackr → SDK ${n}`);
    assert.equal(Number(unpack(Buffer.from(encode(n)))), n, `SDK → msgpackr ${n}`);
  }
  assert.equal(decode(hex('cf 00 00 00 01 00 00 00 00')), 2 ** 32);
  assert.equal(decode(encode(2n ** 40n)), 2 ** 40);
});

test('malformed or unsupported msgpack is refused, never half-read', () => {
  assert.throws(() => decode(hex('93 01 02')), RangeError); // array of 3 with 2 elements
  assert.throws(() => decode(hex('01 02')), /1 bytes after the value/);
  assert.throws(() => decode(hex('d4 01 00')), /extensions are refused/);
  assert.throws(() => decode(hex('dd ff ff ff ff')), /array longer than the data/);
  assert.throws(() => decode(hex('a2 ff fe')), TypeError); // invalid UTF-8
  assert.throws(() => encode(() => 1), /cannot encode a function/);
  const circular: unknown[] = [];
  circular.push(circular);
  assert.throws(() => encode(circular), /nested deeper than 100/);
});

test('server frames decode from the exact bytes in PROTOCOL.md', () => {
  assert.deepEqual(decodeFrame(hex('94 00 a4 6e 65 77 73 c0 c4 02 68 69')), {
    type: 'publication',
    channel: 'news',
    offset: null,
    data: Uint8Array.from([0x68, 0x69]),
  });
  assert.deepEqual(decodeFrame(hex('94 00 a4 6e 65 77 73 2a c4 02 68 69')), {
    type: 'publication',
    channel: 'news',
    offset: 42,
    data: Uint8Array.from([0x68, 0x69]),
  });
  assert.deepEqual(decodeFrame(hex('93 01 01 c0')), { type: 'reply', id: 1, result: null });
  assert.deepEqual(decodeFrame(hex('94 02 01 66 a3 62 61 64')), { type: 'error', id: 1, code: 102, message: 'bad' });
  assert.deepEqual(decodeFrame(hex('93 03 a4 6e 65 77 73 83 a6 6f 66 66 73 65 74 05 a5 65 70 6f 63 68 a3 61 62 63 a9 72 65 63 6f 76 65 72 65 64 c3')), {
    type: 'subscribed',
    channel: 'news',
    result: { offset: 5, epoch: 'abc', recovered: true },
  });
  assert.deepEqual(decodeFrame(hex('93 04 a4 6e 65 77 73 ad 65 70 6f 63 68 20 63 68 61 6e 67 65 64')), {
    type: 'resync',
    channel: 'news',
    reason: 'epoch changed',
  });
  assert.deepEqual(decodeFrame(hex('94 02 c0 64 a1 78')), { type: 'error', id: null, code: 100, message: 'x' });
});

test('malformed server frames are refused with the opcode named', () => {
  assert.throws(() => decodeFrame(pack([0, 'news', -1, 'x'])), /opcode 0/);
  assert.throws(() => decodeFrame(pack([0, 'news', 1, 5])), /opcode 0/);
  assert.throws(() => decodeFrame(pack([9, 1, 2])), /opcode 9/);
  assert.throws(() => decodeFrame(pack({ a: 1 })), /not a msgpack array/);
});

test('command frames are the exact bytes in PROTOCOL.md', () => {
  assert.deepEqual(Buffer.from(subscribeFrame(1, 'news', null)).toString('hex'), '930101a46e657773');
  assert.deepEqual(Buffer.from(subscribeFrame(6, 'news', { offset: 5, epoch: 'abc' })).toString('hex'), '950106a46e65777305a3616263');
  assert.deepEqual(Buffer.from(publishFrame(3, 'news', Uint8Array.from([0x68, 0x69]))).toString('hex'), '940303a46e657773c4026869');
  assert.deepEqual(Buffer.from(refreshFrame(7, 'eyJ...')).toString('hex'), '930507a665794a2e2e2e');
});

test('subscribe results are read as positions; nil means no history', () => {
  assert.deepEqual(readSubscribeResult({ offset: 3, epoch: 'e', recovered: false }), { offset: 3, epoch: 'e', recovered: false });
  assert.deepEqual(readSubscribeResult({ offset: 3, epoch: 'e' }), { offset: 3, epoch: 'e' });
  assert.equal(readSubscribeResult(null), null);
});

test('data: strings travel as str, bytes as bin, other values msgpack-encoded as bin and decoded with format msgpack', () => {
  assert.equal(toWireData('hi'), 'hi');
  assert.deepEqual(toWireData(new Uint16Array([1])), Uint8Array.from([1, 0]));
  assert.deepEqual(toWireData(Uint8Array.from([1, 2]).buffer), Uint8Array.from([1, 2]));
  const wire = toWireData({ text: 'hello', n: [1, 2.5] });
  assert.ok(wire instanceof Uint8Array);
  assert.deepEqual(fromWireData(wire, 'msgpack'), { text: 'hello', n: [1, 2.5] });
  assert.deepEqual(fromWireData(wire, 'raw'), wire);
  assert.equal(fromWireData('text', 'msgpack'), 'text');
  assert.throws(() => toWireData(undefined), /publish data is undefined/);
});
