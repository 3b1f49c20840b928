import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { decodeCommand } from '../../src/protocol/commands';
import { ErrorCode } from '../../src/protocol/opcodes';
import { ProtocolError } from '../../src/protocol/protocol-error';

const LIMIT = 65536;
/** Random frames per property: 20,000 in the suite; mutation testing runs the suite once per mutant and sets fewer. */
const RUNS = Number(process.env.BROADCASTER_FUZZ_RUNS ?? 20_000);
const CODES = new Set<number>(Object.values(ErrorCode));

/** Decoding either yields a command or throws a ProtocolError with a documented code. */
function decodesSafely(bytes: Uint8Array): boolean {
  try {
    const cmd = decodeCommand(bytes, LIMIT);
    return typeof cmd.op === 'number' && Number.isInteger(cmd.id);
  } catch (err) {
    return err instanceof ProtocolError && CODES.has(err.code);
  }
}

/** Any msgpack value, nested, with hostile keys. */
const anyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string(), fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'a'), tie('value'), { maxKeys: 3 }),
  ),
})).value;

test('random bytes only ever give typed protocol errors', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), decodesSafely), { numRuns: RUNS });
});

test('well-formed frames with wrong types in every field give typed errors, never a crash', () => {
  fc.assert(fc.property(fc.array(anyValue, { maxLength: 7 }), (frame) => decodesSafely(pack(frame))), { numRuns: RUNS });
});

test('truncated valid frames are refused as bad requests', () => {
  const valid = [pack([1, 1, 'news']), pack([3, 2, 'news', Buffer.alloc(300)]), pack([1, 3, 'news', 5, 'epoch'])];
  for (const frame of valid) {
    for (let cut = 0; cut < frame.length; cut++) {
      assert.throws(() => decodeCommand(frame.subarray(0, cut), LIMIT), (err: unknown) => err instanceof ProtocolError && err.code === ErrorCode.BadRequest);
    }
  }
});

test('huge declared lengths are refused before anything is allocated', () => {
  for (const header of ['9301 01 db ffffffff', '9403 01 a16e c6 ffffffff', '9403 01 da ffff', '93 01 01 c5 ffff 00']) {
    const bytes = Buffer.from(header.replace(/ /g, ''), 'hex');
    assert.throws(() => decodeCommand(bytes, LIMIT), (err: unknown) => err instanceof ProtocolError && err.code === ErrorCode.BadRequest && /declares more bytes|truncated/.test(err.message));
  }
});

test('deep nesting and maps are refused by shape, without recursion', () => {
  const deep = Buffer.concat([Buffer.from([0x93, 0x01, 0x01]), Buffer.alloc(60_000, 0x91), Buffer.from([0xc0])]);
  assert.throws(() => decodeCommand(deep, LIMIT), /must be a scalar/);
  const polluted = pack([1, 1, { __proto__: { admin: true }, constructor: { prototype: { x: 1 } } }]);
  assert.throws(() => decodeCommand(polluted, LIMIT), /must be a scalar/);
  assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype pollution');
  assert.throws(() => decodeCommand(Buffer.from([0xdc, 0x00, 0x03, 0x01, 0x01, 0xa0]), LIMIT), /msgpack array/);
});
