import { packr } from '../protocol/msgpack';
import { Frame } from '../protocol/opcodes';
import type { PresenceEntry } from './presence-store';

/** Encodes a join/leave frame `[5, channel, joins, leaves]`; entries are maps `{client, user, info}`. */
export function encodePresenceFrame(channel: string, joins: readonly PresenceEntry[], leaves: readonly PresenceEntry[]): Buffer {
  return packr.pack([Frame.Presence, channel, joins, leaves]);
}
