import { encodeReply, type ClientCommand } from '../protocol/commands';
import { encodeData } from '../protocol/envelope';
import { Command, ErrorCode } from '../protocol/opcodes';
import { TokenError, type TokenClaims } from '../security/jwt-verifier';
import { subscribeWithPosition } from './recovery';
import { send, sendErrorReply, type SocketData, type WsContext } from './connection';
import type { WebSocket } from '../uws/uws';

/** Executes one decoded command of a connection and answers it. */
export function handleCommand(ctx: WsContext, ws: WebSocket<SocketData>, cmd: ClientCommand): void {
  const data = ws.getUserData();
  switch (cmd.op) {
    case Command.Subscribe: {
      if (!data.access.canSubscribe(cmd.channel)) {
        sendErrorReply(ctx, ws, cmd.id, ErrorCode.Forbidden, `not allowed to subscribe to ${cmd.channel}`);
        return;
      }
      if (data.pending?.has(cmd.channel)) {
        sendErrorReply(ctx, ws, cmd.id, ErrorCode.SubscriptionInProgress, `a subscribe of ${cmd.channel} is still in progress on this connection`);
        return;
      }
      const already = ws.isSubscribed(cmd.channel);
      if (!already) {
        if (data.subscriptions >= ctx.options.maxSubscriptionsPerConnection) {
          sendErrorReply(ctx, ws, cmd.id, ErrorCode.TooManySubscriptions, `already subscribed to ${data.subscriptions} channels, the limit is ${ctx.options.maxSubscriptionsPerConnection}`);
          return;
        }
        data.subscriptions++;
        ctx.stats.subscriptions++;
      }
      (data.pending ??= new Set()).add(cmd.channel);
      // The reply follows the broker's confirmation: a publication after the reply reaches us.
      void ctx.registry.hold([cmd.channel]).then(() => {
        // Subscribing again with a position while subscribed is a resync: leave the topic, recover, rejoin.
        if (already && cmd.since !== null && !data.closed) ws.unsubscribe(cmd.channel);
        return subscribeWithPosition(ctx, ws, cmd.channel, cmd.since);
      }).then(
        (result) => {
          data.pending?.delete(cmd.channel);
          send(ws, encodeReply(cmd.id, result));
        },
        (err: Error) => {
          data.pending?.delete(cmd.channel);
          if (!data.closed) {
            // A failed resync keeps the live subscription it started from; a new one is undone.
            if (already) ws.subscribe(cmd.channel);
            else {
              data.subscriptions--;
              ctx.stats.subscriptions--;
            }
          }
          sendErrorReply(ctx, ws, cmd.id, ErrorCode.BrokerUnavailable, `history could not be read: ${err.message}`);
        },
      );
      return;
    }
    case Command.Unsubscribe:
      if (data.pending?.has(cmd.channel)) {
        sendErrorReply(ctx, ws, cmd.id, ErrorCode.SubscriptionInProgress, `a subscribe of ${cmd.channel} is still in progress on this connection`);
        return;
      }
      if (ws.unsubscribe(cmd.channel)) {
        data.subscriptions--;
        ctx.stats.subscriptions--;
      }
      send(ws, encodeReply(cmd.id));
      return;
    case Command.Publish:
      if (!data.access.canPublish(cmd.channel)) {
        sendErrorReply(ctx, ws, cmd.id, ErrorCode.Forbidden, `not allowed to publish to ${cmd.channel}: publish from a backend instead`);
        return;
      }
      ctx.broker.publish(cmd.channel, encodeData(cmd.data)).then(
        (position) => {
          ctx.stats.publishedWs++;
          send(ws, encodeReply(cmd.id, position));
        },
        (err: Error) => {
          ctx.stats.publishFailures++;
          sendErrorReply(ctx, ws, cmd.id, ErrorCode.BrokerUnavailable, `the broker did not accept the message: ${err.message}`);
        },
      );
      return;
    case Command.Ping:
      send(ws, encodeReply(cmd.id));
      return;
    case Command.Refresh:
      refresh(ctx, ws, cmd.id, cmd.token);
      return;
  }
}

/** Replaces the connection's token with a fresh one of the same user, before the old one expires. */
function refresh(ctx: WsContext, ws: WebSocket<SocketData>, id: number, token: string): void {
  const data = ws.getUserData();
  const verifier = ctx.security.verifier;
  if (verifier === null || data.access.subject === null) {
    sendErrorReply(ctx, ws, id, ErrorCode.InvalidToken, 'this connection has no token to refresh (no key configured, or anonymous)');
    return;
  }
  let claims: TokenClaims;
  try {
    claims = verifier.verify(token);
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    sendErrorReply(ctx, ws, id, ErrorCode.InvalidToken, err.message);
    return;
  }
  if (claims.subject !== data.access.subject) {
    sendErrorReply(ctx, ws, id, ErrorCode.InvalidToken, 'the fresh token is for another user ("sub" differs)');
    return;
  }
  data.access = ctx.security.accessFor(claims);
  ctx.expiry.arm(ws);
  send(ws, encodeReply(id, { expiresAt: claims.expiresAt === null ? null : Math.floor(claims.expiresAt / 1000) }));
}
