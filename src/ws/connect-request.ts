import { channelNameProblem } from '../protocol/channel-name';
import { checkPosition, type RecoveryPosition } from '../protocol/commands';

/** What a client asked for in the `/ws` query string. */
export interface ConnectRequest {
  /** Channels to subscribe to on connect. */
  channels: string[];
  /** Positions to recover from, per channel (from `since=`). */
  since: Map<string, RecoveryPosition>;
  /** Whether to send a subscribed frame with the position of every channel (`positions=1`). */
  positions: boolean;
}

/**
 * Parses `channels=a,b`, `since=a:<offset>:<epoch>,...` and `positions=1`. Returns the request
 * or a description of the first problem.
 */
export function parseConnectRequest(query: string, maxChannels: number): ConnectRequest | string {
  const params = new URLSearchParams(query);
  const raw = params.get('channels');
  const channels = raw === null || raw === '' ? [] : [...new Set(raw.split(','))];
  for (const channel of channels) {
    const problem = channelNameProblem(channel);
    if (problem !== null) return `${problem}: ${JSON.stringify(channel)}`;
  }
  if (channels.length > maxChannels) return `${channels.length} channels requested, the limit is ${maxChannels} (--max-subscriptions-per-connection)`;
  const since = new Map<string, RecoveryPosition>();
  const rawSince = params.get('since');
  for (const item of rawSince === null || rawSince === '' ? [] : rawSince.split(',')) {
    // Channel names may contain ':', so offset and epoch are the last two fields.
    const epochAt = item.lastIndexOf(':');
    const offsetAt = item.lastIndexOf(':', epochAt - 1);
    if (offsetAt <= 0) return `since entry ${JSON.stringify(item)} must be <channel>:<offset>:<epoch>`;
    const channel = item.slice(0, offsetAt);
    if (!channels.includes(channel)) return `since entry ${JSON.stringify(item)} names a channel missing from channels=`;
    const offsetText = item.slice(offsetAt + 1, epochAt);
    const position = checkPosition(/^\d+$/.test(offsetText) ? Number(offsetText) : NaN, item.slice(epochAt + 1));
    if (typeof position === 'string') return `since entry ${JSON.stringify(item)}: ${position}`;
    since.set(channel, position);
  }
  const positions = params.get('positions');
  if (positions !== null && positions !== '0' && positions !== '1') return 'positions must be 0 or 1';
  return { channels, since, positions: positions === '1' };
}
