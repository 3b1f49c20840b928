import { parseEnvelope } from '../protocol/envelope';
import { buildPublicationFrame } from '../protocol/publication-frame';
import type { Logger } from '../log/logger';
import type { ServerStats } from '../stats';
import type { TemplatedApp } from './uws';

/**
 * Returns the broker message handler: each envelope becomes its wire frame once, and uWS
 * fans that one buffer out to every local subscriber of the channel in C++.
 */
export function createFanout(app: TemplatedApp, logger: Logger, stats: ServerStats): (channel: string, envelope: Buffer) => void {
  let lastWarning = 0;
  return (channel, envelope) => {
    const view = parseEnvelope(envelope);
    if (typeof view === 'string') {
      stats.invalidEnvelopes++;
      const now = Date.now();
      if (now - lastWarning > 10_000) {
        lastWarning = now;
        logger.warn({ channel, problem: view, invalid: stats.invalidEnvelopes }, 'dropped a publication that is not a valid envelope (see docs/PROTOCOL.md)');
      }
      return;
    }
    const frame = buildPublicationFrame(channel, envelope, view);
    const receivers = app.numSubscribers(channel);
    stats.fanoutMessages++;
    stats.framesOut += receivers;
    stats.bytesOut += receivers * frame.length;
    app.publish(channel, frame, true, false);
  };
}
