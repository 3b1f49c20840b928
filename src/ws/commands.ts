import type { ClientCommand } from '../protocol/commands';
import { Command, ErrorCode } from '../protocol/opcodes';
import { type TokenClaims, TokenError } from '../security/jwt-verifier';
import type { Connection, SessionDeps } from './connection';
import { presenceCommand } from './presence-commands';

/** Runs one decoded command of a connection; every command is answered by exactly one reply. */
export function runCommand(deps: SessionDeps, conn: Connection, cmd: ClientCommand): void {
  switch (cmd.op) {
    case Command.Subscribe:
      conn.subscribe(cmd.id, cmd.channel, cmd.since, cmd.joinLeave);
      return;
    case Command.Unsubscribe:
      conn.unsubscribe(cmd.id, cmd.channel);
      return;
    case Command.Publish:
      publish(deps, conn, cmd.id, cmd.channel, cmd.data);
      return;
    case Command.Ping:
      conn.reply(cmd.id);
      return;
    case Command.Refresh:
      refresh(deps, conn, cmd.id, cmd.token);
      return;
    case Command.Presence:
    case Command.PresenceCounts:
      presenceCommand(deps, conn, cmd.id, cmd.channel, cmd.op === Command.PresenceCounts);
      return;
  }
}

/** Publishes through the broker when the connection may, and answers with the position. */
function publish(deps: SessionDeps, conn: Connection, id: number, channel: string, data: Uint8Array | string): void {
  if (!conn.access.canPublish(channel)) {
    conn.replyError(id, ErrorCode.Forbidden, conn.access.publishRefusal(channel));
    return;
  }
  deps.broker.publish(channel, data).then(
    ({ position }) => {
      deps.stats.publishedWs++;
      conn.reply(id, position);
    },
    (err: Error) => {
      deps.stats.publishFailures++;
      conn.replyError(id, ErrorCode.BrokerUnavailable, `the broker did not accept the message: ${err.message}`);
    },
  );
}

/** Replaces the connection's token with a fresh one of the same user, before the old one expires. */
function refresh(deps: SessionDeps, conn: Connection, id: number, token: string): void {
  const verifier = deps.security.verifier;
  if (verifier === null || conn.access.subject === null) {
    conn.replyError(id, ErrorCode.InvalidToken, 'this connection has no token to refresh (no key configured, or anonymous)');
    return;
  }
  let claims: TokenClaims;
  try {
    claims = verifier.verify(token);
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    conn.replyError(id, ErrorCode.InvalidToken, err.message);
    return;
  }
  if (claims.subject !== conn.access.subject) {
    conn.replyError(id, ErrorCode.InvalidToken, 'the fresh token is for another user ("sub" differs)');
    return;
  }
  conn.setAccess(deps.security.accessFor(claims));
  conn.reply(id, { expiresAt: claims.expiresAt === null ? null : Math.floor(claims.expiresAt / 1000) });
}
