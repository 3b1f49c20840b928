import { parseEnvelope } from '../protocol/envelope';
import { buildPublicationFrame } from '../protocol/publication-frame';
import type { Logger } from '../log/logger';
import type { TemplatedApp } from './uws';

/** Counters of the fan-out path. */
export interface FanoutStats {
  /** Envelopes received from the broker and published to local subscribers. */
  delivered: number;
  /** Envelopes dropped because they were not valid envelopes. */
  invalid: number;
}

/**
 * Returns the broker message handler: each envelope becomes its wire frame once, and uWS
 * fans that one buffer out to every local subscriber of the channel in C++.
 */
export function createFanout(app: TemplatedApp, logger: Logger, stats: FanoutStats): (channel: string, envelope: Buffer) => void {
  let lastWarning = 0;
  return (channel, envelope) => {
    const view = parseEnvelope(envelope);
    if (typeof view === 'string') {
      stats.invalid++;
      const now = Date.now();
      if (now - lastWarning > 10_000) {
        lastWarning = now;
        logger.warn({ channel, problem: view, invalid: stats.invalid }, 'dropped a publication that is not a valid envelope (see docs/PROTOCOL.md)');
      }
      return;
    }
    stats.delivered++;
    app.publish(channel, buildPublicationFrame(channel, envelope, view), true, false);
  };
}
