import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFanout } from '../../src/hub/fanout';
import { parseStored } from '../../src/hub/sequenced';
import { encodeData, encodeEnvelope, encodeSequencedEnvelope } from '../../src/protocol/envelope';
import { unpackr } from '../../src/protocol/msgpack';
import { createStats } from '../../src/stats';

/** An app recording every publish call; each topic has `receivers` local subscribers. */
function recordingApp(receivers: number) {
  const calls: Array<{ topic: string; frame: unknown; isBinary: boolean | undefined; compress: boolean | undefined }> = [];
  return {
    calls,
    app: {
      publish(topic: string, message: Uint8Array | ArrayBuffer | string, isBinary?: boolean, compress?: boolean): boolean {
        calls.push({ topic, frame: unpackr.unpack(Buffer.from(message as Uint8Array)), isBinary, compress });
        return true;
      },
      numSubscribers: () => receivers,
    },
  };
}

const sequenced = (bytes: Buffer) => parseStored(bytes, createStats())!;

test('a publication becomes one binary frame published to its topic, counted once and per receiver', () => {
  for (const compress of [false, true]) {
    const { app, calls } = recordingApp(3);
    const stats = createStats();
    const item = sequenced(encodeSequencedEnvelope(encodeData('hi'), 7, 'e1', 0));
    createFanout(app, stats, compress).forward('c', item);
    assert.deepEqual(calls, [{ topic: 'c', frame: [0, 'c', 7, 'hi'], isBinary: true, compress }]);
    // 94 00 a1 63 07 a2 68 69: 8 bytes, sent to 3 receivers
    assert.deepEqual([stats.fanoutMessages, stats.framesOut, stats.bytesOut], [1, 3, 3 * 8]);
  }
});

test('the time from storage to fan-out is observed when the envelope carries it, and only then', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const { app } = recordingApp(1);
  const stats = createStats();
  const fanout = createFanout(app, stats, false);
  fanout.forward('c', sequenced(encodeSequencedEnvelope(encodeData('x'), 1, 'e1', 1_000_000 - 40)));
  assert.deepEqual([stats.fanoutLatency.count, stats.fanoutLatency.sum], [1, 40]);
  fanout.forward('c', sequenced(encodeEnvelope('raw')));
  assert.deepEqual([stats.fanoutLatency.count, stats.fanoutLatency.sum], [1, 40], 'no publishedAt: nothing observed');
});

test('a resync notice is published to the channel topic as a binary resync frame', () => {
  const { app, calls } = recordingApp(2);
  createFanout(app, createStats(), true).resync('c', 'epoch changed');
  assert.deepEqual(calls, [{ topic: 'c', frame: [4, 'c', 'epoch changed'], isBinary: true, compress: true }]);
});
