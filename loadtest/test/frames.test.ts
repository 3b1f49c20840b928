/** Unit tests for the load tools' hand-written msgpack frames, checked against msgpackr. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack, unpack } from 'msgpackr';
import {
  decodeEnvelope,
  decodePublication,
  encodeEnvelope,
  encodePublication,
  encodePublishCommand,
  publicationChannel,
  type PublicationView,
} from '../protocol/frames.js';
import { makePayload, readPayload, stampPayload, type PayloadHeader } from '../protocol/payload.js';

const sizes = [0, 16, 31, 255, 256, 65535, 65536, 70000];

test('publication frames match msgpackr and decode in place', () => {
  for (const size of sizes) {
    for (const channel of ['a', 'news', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(255)]) {
      const data = Buffer.alloc(size, 7);
      const frame = encodePublication(channel, data);
      assert.deepEqual(unpack(frame), [0, channel, null, data]);
      const view: PublicationView = { offset: 0, dataStart: 0, dataEnd: 0 };
      assert.ok(decodePublication(frame, 0, frame.length, view));
      assert.equal(view.offset, -1);
      assert.equal(view.dataEnd - view.dataStart, size);
      assert.equal(publicationChannel(frame), channel);
    }
  }
});

test('publication frames from msgpackr (offsets, str data) decode', () => {
  const view: PublicationView = { offset: 0, dataStart: 0, dataEnd: 0 };
  for (const offset of [0, 127, 128, 255, 256, 65536, 2 ** 32 + 5]) {
    const frame = pack([0, 'ch', offset, Buffer.from('hello')]);
    assert.ok(decodePublication(frame, 0, frame.length, view), `offset ${offset}`);
    assert.equal(view.offset, offset);
    assert.equal(frame.toString('utf8', view.dataStart, view.dataEnd), 'hello');
  }
  const str = pack([0, 'ch', null, 'text data']);
  assert.ok(decodePublication(str, 0, str.length, view));
  assert.equal(str.toString('utf8', view.dataStart, view.dataEnd), 'text data');
});

test('non-publication and truncated frames are rejected', () => {
  const view: PublicationView = { offset: 0, dataStart: 0, dataEnd: 0 };
  const reply = pack([1, 5, true]);
  assert.equal(decodePublication(reply, 0, reply.length, view), false);
  const frame = encodePublication('c', Buffer.alloc(20));
  assert.equal(decodePublication(frame, 0, frame.length - 1, view), false);
  assert.equal(decodePublication(Buffer.concat([frame, Buffer.from([0])]), 0, frame.length + 1, view), false);
});

test('envelope and publish command match msgpackr', () => {
  for (const size of sizes) {
    const data = Buffer.alloc(size, 1);
    const env = encodeEnvelope(data);
    assert.deepEqual(unpack(env), [1, data]);
    assert.deepEqual(decodeEnvelope(env), data);
    const cmd = encodePublishCommand(70000, 'chan', data);
    assert.deepEqual(unpack(cmd), [3, 70000, 'chan', data]);
  }
  assert.equal(decodeEnvelope(pack([2, Buffer.alloc(1)])), null);
});

test('payload header round-trips', () => {
  const p = stampPayload(makePayload(64), 123456, 7, 1700000000123.25);
  assert.equal(p.length, 64);
  const h: PayloadHeader = { sentAt: 0, seq: 0, publisher: 0 };
  assert.ok(readPayload(p, 0, p.length, h));
  assert.deepEqual(h, { sentAt: 1700000000123.25, seq: 123456, publisher: 7 });
  assert.equal(makePayload(4).length, 16);
  assert.equal(readPayload(p, 0, 15, h), false);
});
