import { encodeResync } from '../protocol/commands';
import { buildPublicationFrame } from '../protocol/publication-frame';
import type { ServerStats } from '../stats';
import type { SequencerOutput } from './channel-sequencer';
import type { TemplatedApp } from '../uws/uws';

/** The part of the uWS app the fan-out drives. */
export type FanoutApp = Pick<TemplatedApp, 'publish' | 'numSubscribers'>;

/**
 * The local fan-out: each ordered publication becomes its wire frame once, and uWS sends that
 * one buffer to every local subscriber of the channel in C++ (no JavaScript loop over sockets).
 */
export function createFanout(app: FanoutApp, stats: ServerStats, compress: boolean): SequencerOutput {
  return {
    forward(channel, { envelope, view }) {
      if (view.publishedAt !== null) stats.fanoutLatency.observe(Date.now() - view.publishedAt);
      const frame = buildPublicationFrame(channel, envelope, view);
      const receivers = app.numSubscribers(channel);
      stats.fanoutMessages++;
      stats.framesOut += receivers;
      stats.bytesOut += receivers * frame.length;
      app.publish(channel, frame, true, compress);
    },
    resync(channel, reason) {
      app.publish(channel, encodeResync(channel, reason), true, compress);
    },
  };
}
