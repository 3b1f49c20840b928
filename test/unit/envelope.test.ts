import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pack, unpack } from 'msgpackr';
import { encodeData, encodeEnvelope, encodeSequencedEnvelope, parseEnvelope, type EnvelopeView } from '../../src/protocol/envelope';
import { buildPublicationFrame } from '../../src/protocol/publication-frame';

function view(bytes: Uint8Array): EnvelopeView {
  const v = parseEnvelope(bytes);
  if (typeof v === 'string') assert.fail(`expected a valid envelope, got: ${v}`);
  return v;
}

test('encodeEnvelope writes [1, data] with bin for bytes and str for strings', () => {
  assert.deepEqual(encodeEnvelope(Buffer.from('hi')), Buffer.from('9201c4026869', 'hex'));
  assert.deepEqual(encodeEnvelope('hi'), Buffer.from('9201a26869', 'hex'));
});

test('publication frame round-trips every data size class (fixstr, str8/16/32, bin8/16/32)', () => {
  const sizes = [0, 1, 31, 32, 255, 256, 65535, 65536, 100_000];
  for (const size of sizes) {
    const bytes = Buffer.alloc(size, 7);
    const text = 'é'.repeat(Math.floor(size / 2));
    for (const data of [bytes, text]) {
      const env = encodeEnvelope(data);
      const frame = buildPublicationFrame('chat:42', env, view(env));
      assert.deepEqual(unpack(frame), [0, 'chat:42', null, data], `size ${size} ${typeof data}`);
    }
  }
});

test('the offset element of an envelope is copied into the frame verbatim', () => {
  for (const offset of [0, 5, 127, 128, 300, 70_000, 2 ** 32 + 1, null]) {
    const env = pack([1, Buffer.from('x'), offset]);
    assert.deepEqual(unpack(buildPublicationFrame('news', env, view(env))), [0, 'news', offset, Buffer.from('x')]);
    const withEpoch = pack([1, Buffer.from('x'), offset, 'epoch-1']);
    assert.deepEqual(unpack(buildPublicationFrame('news', withEpoch, view(withEpoch))), [0, 'news', offset, Buffer.from('x')]);
  }
});

test('the frame is a fresh buffer: later envelopes do not change earlier frames', () => {
  const a = encodeEnvelope('first');
  const frameA = buildPublicationFrame('c', a, view(a));
  const copy = Buffer.from(frameA);
  const b = encodeEnvelope('second');
  buildPublicationFrame('c', b, view(b));
  a.fill(0);
  assert.deepEqual(frameA, copy);
});

test('parseEnvelope names the problem of every malformed envelope', () => {
  const cases: [Uint8Array, RegExp][] = [
    [Buffer.from(''), /too short/],
    [Buffer.from('hello'), /msgpack array of 2 to 5/],
    [pack([1]), /too short|array of 2 to 5/],
    [pack([2, Buffer.from('x')]), /version must be 1/],
    [pack([1, 42]), /data must be msgpack bin or str/],
    [pack([1, { a: 1 }]), /data must be msgpack bin or str/],
    [pack([1, Buffer.from('x'), -1]), /offset must be an unsigned integer/],
    [pack([1, Buffer.from('x'), 1.5]), /offset must be an unsigned integer/],
    [pack([1, Buffer.from('x'), 1, 7]), /epoch must be a msgpack fixstr/],
    [pack([1, Buffer.from('x'), 1, 'e'.repeat(32)]), /epoch must be a msgpack fixstr/],
    [pack([1, Buffer.from('x'), 1, 'e', 'extra']), /publishedAt must be an unsigned integer/],
    [pack([1, Buffer.from('x'), 1, 'e', 5, 6]), /array of 2 to 5/],
    [Buffer.concat([pack([1, Buffer.from('x')]), Buffer.from([0])]), /trailing bytes/],
    [pack([1, Buffer.alloc(300)]).subarray(0, 100), /bin or str/],
    [Buffer.from('9201c6ffffffff00', 'hex'), /bin or str/],
  ];
  for (const [bytes, expected] of cases) {
    const result = parseEnvelope(bytes);
    assert.equal(typeof result, 'string', `accepted ${Buffer.from(bytes).toString('hex')}`);
    assert.match(result as string, expected);
  }
});

test('sequenced envelopes carry offset and epoch, readable without decoding the data', () => {
  for (const offset of [1, 127, 128, 65_535, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7]) {
    for (const data of [Buffer.from('payload'), 'text']) {
      const env = encodeSequencedEnvelope(encodeData(data), offset, 'ep0ch', 1_795_000_000_123);
      const decoded = unpack(env) as unknown[];
      // Generic decoders may give offsets of 2^32 and above as 64-bit integers (BigInt in JS).
      assert.deepEqual([decoded[0], decoded[1], Number(decoded[2]), decoded[3], Number(decoded[4])], [1, data, offset, 'ep0ch', 1_795_000_000_123]);
      const v = view(env);
      assert.equal(v.offset, offset);
      assert.equal(env.subarray(v.epochStart, v.epochEnd).toString(), 'ep0ch');
      assert.equal(v.publishedAt, 1_795_000_000_123);
      const frame = unpack(buildPublicationFrame('n', env, v)) as unknown[];
      assert.deepEqual([frame[0], frame[1], Number(frame[2]), frame[3]], [0, 'n', offset, data]);
    }
  }
  assert.equal(view(encodeEnvelope('x')).offset, null);
  assert.equal(view(encodeEnvelope('x')).epochStart, -1);
  assert.equal(view(encodeEnvelope('x')).publishedAt, null);
  assert.equal(view(pack([1, 'x', 3, 'e'])).publishedAt, null, 'four-element envelopes stay valid');
  assert.equal(view(pack([1, 'x', 2 ** 33 + 1])).offset, 2 ** 33 + 1, 'float64-encoded offsets are read too');
  assert.throws(() => encodeSequencedEnvelope(encodeData('x'), 1, 'e'.repeat(32)), /epoch must be 1-31/);
});
