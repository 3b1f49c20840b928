import { type EnvelopeView, parseEnvelope } from '../protocol/envelope';
import type { ServerStats } from '../stats';

/** A parsed envelope on its way to local subscribers: its bytes and where its parts sit. */
export interface Sequenced {
  envelope: Buffer;
  view: EnvelopeView;
}

/** Parses an envelope read from history; null (and counted in `invalidEnvelopes`) when it is not valid. */
export function parseStored(envelope: Buffer, stats: Pick<ServerStats, 'invalidEnvelopes'>): Sequenced | null {
  const view = parseEnvelope(envelope);
  if (typeof view !== 'string') return { envelope, view };
  stats.invalidEnvelopes++;
  return null;
}
