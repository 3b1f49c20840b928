import { ErrorCode } from '../protocol/opcodes';
import { type Connection, DONE, type SessionDeps } from './connection';

/**
 * The presence commands: `[6, id, channel]` answers `{client, entries}` (this connection's client
 * id or null, and every entry), `[7, id, channel]` answers `{clients, users}` in O(1). The channel
 * must be one the connection may subscribe to and inside --presence-namespaces. Settles once the
 * reply is sent.
 */
export function presenceCommand(deps: SessionDeps, conn: Connection, id: number, channel: string, countsOnly: boolean): Promise<void> {
  const service = deps.presence;
  if (!conn.access.canSubscribe(channel)) {
    conn.replyError(id, ErrorCode.Forbidden, `not allowed to subscribe to ${channel}, so not to read its presence`);
    return DONE;
  }
  if (service === null || !service.covers(channel)) {
    conn.replyError(id, ErrorCode.PresenceDisabled, `${channel} is outside --presence-namespaces: it has no presence`);
    return DONE;
  }
  const failed = (err: Error): void => conn.replyError(id, ErrorCode.BrokerUnavailable, `presence could not be read: ${err.message}`);
  if (countsOnly) return service.counts(channel).then((counts) => conn.reply(id, counts), failed);
  return service.list(channel).then((entries) => conn.reply(id, { client: conn.presenceClient, entries }), failed);
}
