import type { ClientCommand } from '../protocol/commands';
import { Command, ErrorCode } from '../protocol/opcodes';
import { type TokenClaims, TokenError } from '../security/jwt-verifier';
import { type Connection, DONE, type SessionDeps } from './connection';
import { presenceCommand } from './presence-commands';

/** The commands' names in logs, by opcode. */
const COMMAND_NAMES: Readonly<Record<ClientCommand['op'], string>> = {
  [Command.Subscribe]: 'subscribe',
  [Command.Unsubscribe]: 'unsubscribe',
  [Command.Publish]: 'publish',
  [Command.Ping]: 'ping',
  [Command.Refresh]: 'refresh',
  [Command.Presence]: 'presence',
  [Command.PresenceCounts]: 'presence counts',
};

/**
 * Reads one command frame of a connection and runs it. An unexpected failure — a throw, or a
 * rejected promise anywhere in the command's path — is answered with error 500 and logged
 * (Connection.internalError); the connection and every other client go on.
 */
export function receiveCommand(deps: SessionDeps, conn: Connection, message: ArrayBuffer): void {
  let cmd: ClientCommand | null = null;
  try {
    cmd = conn.readCommand(message);
    if (cmd === null) return;
    const running = cmd;
    runCommand(deps, conn, running).catch((err: unknown) => failed(conn, running, err));
  } catch (err) {
    failed(conn, cmd, err);
  }
}

function failed(conn: Connection, cmd: ClientCommand | null, err: unknown): void {
  if (cmd === null) conn.internalError(null, null, null, err);
  else conn.internalError(cmd.id, COMMAND_NAMES[cmd.op], 'channel' in cmd ? cmd.channel : null, err);
}

/**
 * Runs one decoded command of a connection; every command is answered by exactly one reply.
 * Settles once the reply is sent; its documented failures are replies, so it rejects (or throws)
 * only on an unexpected failure.
 */
export function runCommand(deps: SessionDeps, conn: Connection, cmd: ClientCommand): Promise<void> {
  switch (cmd.op) {
    case Command.Subscribe:
      return conn.subscribe(cmd.id, cmd.channel, cmd.since, cmd.joinLeave);
    case Command.Unsubscribe:
      conn.unsubscribe(cmd.id, cmd.channel);
      return DONE;
    case Command.Publish:
      return publish(deps, conn, cmd.id, cmd.channel, cmd.data);
    case Command.Ping:
      conn.reply(cmd.id);
      return DONE;
    case Command.Refresh:
      refresh(deps, conn, cmd.id, cmd.token);
      return DONE;
    case Command.Presence:
    case Command.PresenceCounts:
      return presenceCommand(deps, conn, cmd.id, cmd.channel, cmd.op === Command.PresenceCounts);
  }
}

/** Publishes through the broker when the connection may, and answers with the position. */
function publish(deps: SessionDeps, conn: Connection, id: number, channel: string, data: Uint8Array | string): Promise<void> {
  if (!conn.access.canPublish(channel)) {
    conn.replyError(id, ErrorCode.Forbidden, conn.access.publishRefusal(channel));
    return DONE;
  }
  return deps.broker.publish(channel, data).then(
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
