import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Broker, HistoryPage } from '../../src/broker/broker';
import { createLogger } from '../../src/log/logger';
import { encodeData, encodeSequencedEnvelope } from '../../src/protocol/envelope';
import { createStats } from '../../src/stats';
import { ChannelSequencer } from '../../src/hub/channel-sequencer';

const EPOCH = 'e1';

function envelope(offset: number): Buffer {
  return encodeSequencedEnvelope(encodeData(String(offset)), offset, EPOCH, 0);
}

/** A sequencer over a broker whose history reads the test answers by hand. */
function setup() {
  const reads: Array<{ resolve(page: HistoryPage): void; reject(err: Error): void }> = [];
  const broker = {
    history: () => new Promise<HistoryPage>((resolve, reject) => reads.push({ resolve, reject })),
  } as unknown as Broker;
  const forwarded: Array<number | null> = [];
  const resyncs: string[] = [];
  const stats = createStats();
  const sequencer = new ChannelSequencer(
    broker,
    { forward: (_channel, item) => forwarded.push(item.view.offset), resync: (_channel, reason) => resyncs.push(reason) },
    stats,
    createLogger('silent'),
  );
  return { reads, forwarded, resyncs, stats, sequencer };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a failed history check after a reconnect keeps the publications that arrived meanwhile', async () => {
  const { reads, forwarded, resyncs, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.accept('c', envelope(2));
  sequencer.verifyAll();
  sequencer.accept('c', envelope(3));
  assert.deepEqual(forwarded, [1, 2], 'held back while the check runs');
  reads[0]!.reject(new Error('the Redis connection dropped before answering'));
  await settle();
  assert.deepEqual(forwarded, [1, 2, 3]);
  assert.deepEqual(resyncs, []);
});

test('a history check after a reconnect counts a gap only when something was missing', async () => {
  const { reads, forwarded, stats, sequencer } = setup();
  sequencer.accept('c', envelope(1));
  sequencer.verifyAll();
  reads[0]!.resolve({ epoch: EPOCH, top: 1, publications: [] });
  await settle();
  assert.deepEqual([stats.gapsDetected, stats.gapsRepaired], [0, 0], 'nothing was missing');
  sequencer.verifyAll();
  reads[1]!.resolve({ epoch: EPOCH, top: 3, publications: [2, 3].map((offset) => ({ offset, envelope: envelope(offset) })) });
  await settle();
  assert.deepEqual(forwarded, [1, 2, 3]);
  assert.deepEqual([stats.gapsDetected, stats.gapsRepaired], [1, 1]);
});
