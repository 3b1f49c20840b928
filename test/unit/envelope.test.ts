import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
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
    [pack([1, Buffer.from('x'), 1, '']), /epoch must be a msgpack fixstr/],
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

test('parseEnvelope: offsets in every unsigned width and nil, exact positions, inside a larger buffer', () => {
  const data = Buffer.from('c40178', 'hex'); // bin "x"
  const widths: Array<[string, number | null]> = [['00', 0], ['7f', 127], ['cc80', 128], ['cd0100', 256], ['ce00010000', 65_536], ['cf0000000100000000', 2 ** 32], ['c0', null], ['cb4150000000000000', 4_194_304]];
  for (const [element, value] of widths) {
    const env = Buffer.concat([Buffer.from('9301', 'hex'), data, Buffer.from(element, 'hex')]);
    const v = parseEnvelope(env);
    assert.notEqual(typeof v, 'string', element);
    assert.deepEqual(v, { dataStart: 2, dataEnd: 5, offsetStart: 5, offsetEnd: env.length, offset: value, epochStart: -1, epochEnd: -1, publishedAt: null }, element);
  }
  const inner = Buffer.concat([Buffer.from('ffff', 'hex'), Buffer.from('9401c40178cd0102a26570', 'hex'), Buffer.from('ff', 'hex')]).subarray(2, 13);
  assert.deepEqual(parseEnvelope(inner), { dataStart: 2, dataEnd: 5, offsetStart: 5, offsetEnd: 8, offset: 258, epochStart: 9, epochEnd: 11, publishedAt: null });
  const five = Buffer.from('9501a178cc05a165ce00000102', 'hex');
  assert.deepEqual(parseEnvelope(five), { dataStart: 2, dataEnd: 4, offsetStart: 4, offsetEnd: 6, offset: 5, epochStart: 7, epochEnd: 8, publishedAt: 258 });
});

test('parseEnvelope: exact messages, truncated headers and bad numbers', () => {
  const problem = (h: string): string => parseEnvelope(Buffer.from(h, 'hex')) as string;
  assert.equal(problem('92'), 'envelope too short');
  assert.equal(problem('9101a0'), 'envelope must be a msgpack array of 2 to 5 elements');
  assert.equal(problem('9601a0c0a165c0'), 'envelope must be a msgpack array of 2 to 5 elements');
  assert.equal(problem('9202a0'), 'envelope version must be 1');
  for (const data of ['c4', 'd9', 'c500', 'da00', 'c6000000', 'db000000', 'c402', 'a2', 'c50002', 'c600000002', '01']) {
    assert.equal(problem(`9201${data}`), 'envelope data must be msgpack bin or str', data);
  }
  assert.deepEqual([problem('9201c50000'), problem('9201db00000000'), problem('9201da0000')].map((p) => typeof p), ['object', 'object', 'object'], 'empty 16/32-bit data is fine');
  for (const offset of ['', 'cc', 'cd00', 'ce000000', 'cf00000000000000', 'cbbff0000000000000', 'cb3ff8000000000000', 'cb3ff0', 'ff', 'd001', 'a0']) {
    assert.equal(problem(`9301a0${offset}`), 'envelope offset must be an unsigned integer or nil', offset);
  }
  assert.equal(problem('9401a001'), 'envelope epoch must be a msgpack fixstr (1-31 characters)');
  assert.equal(problem('9401a001a2'), 'envelope epoch must be a msgpack fixstr (1-31 characters)');
  assert.equal(problem('9401a001a0'), 'envelope epoch must be a msgpack fixstr (1-31 characters)', 'an empty epoch is refused, as encodeSequencedEnvelope refuses to make one');
  assert.equal(problem('9401a001c0'), 'envelope epoch must be a msgpack fixstr (1-31 characters)');
  assert.equal(problem('9501a001a165'), 'envelope publishedAt must be an unsigned integer (ms since 1970)');
  assert.equal(problem('9501a001a165a0'), 'envelope publishedAt must be an unsigned integer (ms since 1970)');
  assert.equal(problem('9201a000'), 'envelope has trailing bytes');
  assert.equal(problem('9301a00100'), 'envelope has trailing bytes');
  assert.equal((parseEnvelope(Buffer.from('9501a001a165c0', 'hex')) as { publishedAt: unknown }).publishedAt, null, 'nil publishedAt');
  const big = Buffer.concat([Buffer.from('9201c6000101', 'hex'), Buffer.alloc(2)]);
  assert.equal(problem(big.toString('hex')), 'envelope data must be msgpack bin or str', 'a 32-bit length past the end');
  const bin32 = Buffer.concat([Buffer.from('9201c600000100', 'hex'), Buffer.alloc(256)]);
  assert.equal((parseEnvelope(bin32) as { dataEnd: number }).dataEnd, 7 + 256);
  const str16 = Buffer.concat([Buffer.from('9201da0100', 'hex'), Buffer.alloc(256, 0x61)]);
  assert.equal((parseEnvelope(str16) as { dataEnd: number }).dataEnd, 5 + 256);
  const bin8 = Buffer.concat([Buffer.from('9201c4ff', 'hex'), Buffer.alloc(255)]);
  assert.equal((parseEnvelope(bin8) as { dataEnd: number }).dataEnd, 4 + 255);
  const str32hi = Buffer.from('9201db80000000', 'hex');
  assert.equal(problem(str32hi.toString('hex')), 'envelope data must be msgpack bin or str', 'a length of 2^31 does not wrap negative');
});

test('sequenced envelopes use the shortest unsigned encoding, as the Redis script does', () => {
  const hexOf = (offset: number): string => encodeSequencedEnvelope(encodeData('x'), offset, 'e', 0).toString('hex');
  assert.equal(hexOf(127), '9501a1787fa16500');
  assert.equal(hexOf(128), '9501a178ce00000080a16500');
  assert.equal(hexOf(2 ** 32 - 1), '9501a178ceffffffffa16500');
  assert.equal(hexOf(2 ** 32), '9501a178cf0000000100000000a16500');
  assert.throws(() => encodeSequencedEnvelope(encodeData('x'), 1, ''), /epoch must be 1-31/);
  const longest = 'e'.repeat(31);
  assert.equal(parseEnvelope(encodeSequencedEnvelope(encodeData('x'), 1, longest, 0)) === null, false);
  const v = parseEnvelope(encodeSequencedEnvelope(encodeData('x'), 1, longest, 0));
  assert.equal(typeof v, 'object', 'a 31-character epoch is valid');
  const thirtyOne = Buffer.concat([Buffer.from('9201bf', 'hex'), Buffer.alloc(31, 0x61)]);
  assert.equal((parseEnvelope(thirtyOne) as { dataEnd: number }).dataEnd, 34, 'a 31-byte fixstr as data');
  assert.equal((parseEnvelope(Buffer.from('9301a0cb0000000000000000', 'hex')) as { offset: number }).offset, 0, 'a float64 zero offset');
});

test('encodeData writes the bytes msgpack writes: every size class of str and bin, any text, a view into a larger buffer', () => {
  const sizes = [0, 1, 31, 32, 33, 255, 256, 257, 65535, 65536, 70_000];
  for (const size of sizes) {
    for (const data of [Buffer.alloc(size, 7), new Uint8Array(size).fill(3), 'a'.repeat(size), 'é'.repeat(size >> 1), '😀'.repeat(size >> 2)]) {
      assert.deepEqual(encodeData(data), pack(data), `${typeof data} of ${size}`);
    }
  }
  const big = Buffer.from('xxhelloxx');
  assert.deepEqual(encodeData(big.subarray(2, 7)), Buffer.from('c40568656c6c6f', 'hex'), 'only the view, not the buffer behind it');
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 300 })), (data) => {
      assert.deepEqual(encodeData(data), pack(data instanceof Uint8Array ? Buffer.from(data) : data));
    }),
  );
});
