import type { PresenceService } from '../presence/presence-service';
import { channelNameProblem } from '../protocol/channel-name';
import { Failures } from '../protocol/errors';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../uws/uws';
import { sendError, sendJson } from './reply';

/** Path of the HTTP presence endpoint: every entry and the counts. */
export const PRESENCE_ROUTE = '/v1/channels/:channel/presence';

/** Path of the HTTP presence counts endpoint: O(1) on any channel size. */
export const PRESENCE_COUNTS_ROUTE = '/v1/channels/:channel/presence/counts';

/** Answers 401/403 and returns false unless the request may call the HTTP API (keys, trusted networks). */
export type Authorize = (res: HttpResponse, req: HttpRequest) => boolean;

function handler(presence: PresenceService | null, authorized: Authorize, countsOnly: boolean) {
  return (res: HttpResponse, req: HttpRequest): void => {
    if (!authorized(res, req)) return;
    const channel = req.getParameter(0) ?? '';
    const problem = channelNameProblem(channel);
    if (problem !== null) return sendError(res, Failures.invalidChannel.http, problem);
    if (presence === null || !presence.covers(channel)) {
      return sendError(res, Failures.presenceDisabled.http, `channel ${channel} is outside --presence-namespaces: it has no presence`);
    }
    let aborted = false;
    res.onAborted(() => (aborted = true));
    const failed = (err: Error): void => {
      if (!aborted) sendError(res, Failures.brokerUnavailable.http, `presence could not be read: ${err.message}`);
    };
    if (countsOnly) {
      presence.counts(channel).then((counts) => {
        if (!aborted) sendJson(res, '200 OK', { channel, ...counts });
      }, failed);
      return;
    }
    presence.list(channel).then((entries) => {
      if (aborted) return;
      const users = new Set(entries.map((e) => e.user).filter((u) => u !== null)).size;
      sendJson(res, '200 OK', { channel, clients: entries.length, users, entries });
    }, failed);
  };
}

/** Registers GET presence and presence counts (405 for other methods). */
export function registerPresenceRoutes(
  app: TemplatedApp,
  presence: PresenceService | null,
  authorized: Authorize,
  methodNotAllowed: (allow: string) => (res: HttpResponse, req: HttpRequest) => void,
): void {
  app.get(PRESENCE_COUNTS_ROUTE, handler(presence, authorized, true));
  app.any(PRESENCE_COUNTS_ROUTE, methodNotAllowed('GET'));
  app.get(PRESENCE_ROUTE, handler(presence, authorized, false));
  app.any(PRESENCE_ROUTE, methodNotAllowed('GET'));
}
