import pino from 'pino';
import type { HistoryPage, HistoryReader } from '../../../src/broker/broker';
import { ChannelSequencer } from '../../../src/hub/channel-sequencer';
import { encodeData, encodeSequencedEnvelope } from '../../../src/protocol/envelope';
import { createStats } from '../../../src/stats';

/** The epoch of the envelopes the helpers below make by default. */
export const EPOCH = 'e1';

/** The envelope `[1, "<offset>", offset, epoch, 0]`. */
export function envelope(offset: number, epoch = EPOCH): Buffer {
  return encodeSequencedEnvelope(encodeData(String(offset)), offset, epoch, 0);
}

/** The envelope `[1, "<offset>", offset]`: an offset without epoch (a backend's own envelope). */
export function envelopeWithoutEpoch(offset: number): Buffer {
  if (offset > 0x7f) throw new RangeError('a positive fixint offset (0-127) keeps this helper short');
  return Buffer.concat([Buffer.from([0x93, 0x01]), encodeData(String(offset)), Buffer.from([offset])]);
}

/** A history page of `epoch` whose latest offset is `top`, holding the publications at `offsets`. */
export function page(top: number, offsets: number[], epoch = EPOCH): HistoryPage {
  return { epoch, top, publications: offsets.map((offset) => ({ offset, envelope: envelope(offset, epoch) })) };
}

/** A history read the test answers by hand. */
export interface PendingRead {
  readonly channel: string;
  readonly since: number;
  readonly limit: number;
  resolve(page: HistoryPage | null): void;
  reject(err: Error): void;
}

/** Resolves after pending promise callbacks and one macrotask turn. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A sequencer over a broker whose history reads wait for the test, recording what it forwards
 * (offsets, null for none), the resync reasons it announces and its log lines (warn and up).
 */
export function sequencerHarness() {
  const reads: PendingRead[] = [];
  const broker: HistoryReader = {
    history: (channel, since, limit) => new Promise<HistoryPage | null>((resolve, reject) => reads.push({ channel, since, limit, resolve, reject })),
  };
  const forwarded: Array<number | null> = [];
  const resyncs: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const stats = createStats();
  const sequencer = new ChannelSequencer(
    broker,
    { forward: (_channel, item) => forwarded.push(item.view.offset), resync: (_channel, reason) => resyncs.push(reason) },
    stats,
    logger,
  );
  return { reads, forwarded, resyncs, logs, stats, sequencer };
}
