import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_COMMAND_ELEMENTS, frameShapeProblem } from '../../src/protocol/frame-shape';

const hex = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');
/** `[elements...]` as a fixarray around the given element bytes. */
const array = (count: number, body: string): Buffer => hex((0x90 + count).toString(16) + body);
const SCALAR = 'element 0 must be a scalar (nil, boolean, number, str or bin), not an array, map or extension';

test('the frame must be a non-empty fixarray', () => {
  assert.equal(frameShapeProblem(hex('')), 'frame is empty');
  for (const head of ['80', '8f', 'a0', 'c0', 'dc0000', 'dd00000000', '01', '7f', 'ff']) {
    assert.equal(frameShapeProblem(hex(head)), 'frame must be a msgpack array [opcode, id, ...]', head);
  }
  assert.equal(frameShapeProblem(hex('90')), null, 'an empty array has a fine shape (decoding refuses it)');
  assert.equal(MAX_COMMAND_ELEMENTS, 15);
  assert.equal(frameShapeProblem(array(15, 'c0'.repeat(15))), null, '15 scalars, the most a fixarray holds');
});

test('every scalar type is accepted with its exact length', () => {
  const scalars = [
    '00',
    '7f',
    'e0',
    'ff',
    'c0',
    'c2',
    'c3', // fixints, nil, booleans
    'a0',
    'a3616263',
    `bf${'61'.repeat(31)}`, // fixstr of 0, 3 and 31 bytes
    'cc01',
    'd0ff',
    'cd0102',
    'd10102',
    'ce01020304',
    'd201020304',
    'ca3f800000',
    'cf0102030405060708',
    'd30102030405060708',
    'cb3ff0000000000000',
    'c403010203',
    'd903616263',
    'c50003010203',
    'da0003616263',
    'c600000003010203',
    'db00000003616263',
    'c400',
    'c50000',
    'c600000000', // empty bins
  ];
  for (const s of scalars) {
    assert.equal(frameShapeProblem(array(1, s)), null, s);
    assert.equal(frameShapeProblem(array(2, `01${s}`)), null, `after an element: ${s}`);
    assert.equal(frameShapeProblem(array(1, `${s}00`)), 'frame has trailing bytes after its array', `${s} plus a byte`);
  }
});

test('arrays, maps, extensions and 0xc1 are refused by position', () => {
  for (const s of ['90', '9101', '80', '8101', 'dc0000', 'de0000', 'c1', 'd401', 'd50102', 'd6', 'd7', 'd8', 'c70100', 'c8000100', 'c900000001']) {
    assert.equal(frameShapeProblem(array(1, s)), SCALAR, s);
  }
  assert.equal(frameShapeProblem(array(3, '0102 90')), 'element 2 must be a scalar (nil, boolean, number, str or bin), not an array, map or extension');
});

test('declared lengths must fit the frame exactly', () => {
  assert.equal(frameShapeProblem(hex('92 01')), 'frame is truncated');
  assert.equal(frameShapeProblem(hex('91')), 'frame is truncated');
  for (const s of [
    'cc',
    'cd00',
    'ce000000',
    'cf00000000000000',
    'ca000000',
    'cb00000000000000',
    'a3 6162',
    'c403 0102',
    'd903 6162',
    'c50003 0102',
    'c600000003 0102',
    'db00000003 6162',
  ]) {
    assert.equal(frameShapeProblem(array(1, s)), 'element 0 declares more bytes than the frame holds', s);
  }
  // The length bytes themselves missing: not readable as a scalar.
  for (const s of ['c4', 'd9', 'c5', 'c500', 'da00', 'c6', 'c6000000', 'db000000']) assert.equal(frameShapeProblem(array(1, s)), SCALAR, s);
  assert.equal(frameShapeProblem(array(1, 'c6ffffffff')), 'element 0 declares more bytes than the frame holds', '4 GiB declared');
});

test('lengths are read relative to the frame, also inside a larger buffer', () => {
  const big = Buffer.concat([hex('ffffffff'), array(1, 'c50002 6162'), hex('ffff')]);
  const frame = big.subarray(4, big.length - 2);
  assert.equal(frameShapeProblem(frame), null);
  const str32 = Buffer.concat([hex('00'), array(1, 'db00000002 6162')]).subarray(1);
  assert.equal(frameShapeProblem(str32), null);
});
