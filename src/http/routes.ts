import type { Broker } from '../broker/broker';
import type { Options } from '../config/options';
import type { Logger } from '../log/logger';
import { channelNameProblem } from '../protocol/channel-name';
import { idempotencyKeyProblem } from '../protocol/idempotency-key';
import { Failures, statusLine } from '../protocol/errors';
import type { HistoryPolicies } from '../config/history-policy';
import type { HttpApiAccess } from '../security/http-api-access';
import { toJsonPublication } from './history-json';
import type { ServerStats } from '../stats';
import { readBody } from './body';
import { HEALTH_BODY, type ReadinessSource, readiness } from './readiness';
import { sendError, sendJson } from './reply';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../uws/uws';
import { registerClientBundleRoute } from './client-bundle-route';
import { registerPresenceRoutes } from './presence-route';
import type { PresenceService } from '../presence/presence-service';
import { registerDemoRoutes } from '../demo/demo-routes';
import { BATCH_PUBLISH_ROUTE, batchPublishHandler } from './batch-publish';

/** Path of the HTTP publish endpoint; `:channel` is the channel name. */
export const PUBLISH_ROUTE = '/v1/channels/:channel/publish';

/** Path of the HTTP history endpoint. */
export const HISTORY_ROUTE = '/v1/channels/:channel/history';

/** What the HTTP routes need from the server. */
export interface HttpContext {
  options: Readonly<Options>;
  policies: HistoryPolicies;
  broker: Broker;
  logger: Logger;
  /** Process counters. */
  stats: ServerStats;
  /** Who may call the HTTP API (keys, trusted networks). */
  apiAccess: HttpApiAccess;
  /** The process whose readiness /readyz reports. */
  readiness: ReadinessSource;
  /** Presence, or null without --presence-namespaces. */
  presence?: PresenceService | null;
  /** Serve the demo page (--demo). */
  demo?: boolean;
}

function methodNotAllowed(allow: string) {
  return (res: HttpResponse, req: HttpRequest): void => {
    sendError(res, Failures.methodNotAllowed.http, `${req.getMethod().toUpperCase()} is not allowed here; use ${allow}`, { Allow: allow });
  };
}

/** Answers 401/403 and returns false unless the request has a valid API key or, without keys, a trusted peer. */
function authorized(ctx: HttpContext, res: HttpResponse, req: HttpRequest): boolean {
  const refusal = ctx.apiAccess.check(req.getHeader('authorization'), () => res.getRemoteAddressAsText());
  if (refusal !== null) sendError(res, refusal.failure, refusal.message, refusal.headers);
  return refusal === null;
}

function publishHandler(ctx: HttpContext) {
  return (res: HttpResponse, req: HttpRequest): void => {
    if (!authorized(ctx, res, req)) return;
    // Valid channel names hold only URL-safe characters, so the raw path segment is the name.
    const channel = req.getParameter(0) ?? '';
    const lengthHeader = req.getHeader('content-length');
    const contentLength = lengthHeader === '' ? null : Number(lengthHeader);
    // An absent or empty header: no key.
    const idempotencyKey = req.getHeader('idempotency-key');
    const limit = ctx.options.maxMessageSize;
    readBody(res, Number.isFinite(contentLength) ? contentLength : null, limit, (body) => {
      if (body === 'aborted') return;
      if (body === 'too_large') {
        res.cork(() => {
          // The rest of the body is not read: the answer closes the connection.
          res.writeStatus(statusLine(Failures.messageTooLarge.http.status)).writeHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ error: Failures.messageTooLarge.http.error, message: `body is over the ${limit}-byte limit (--max-message-size)` }), true);
        });
        return;
      }
      const problem = channelNameProblem(channel);
      if (problem !== null) {
        sendError(res, Failures.invalidChannel.http, problem);
        return;
      }
      const keyProblem = idempotencyKey === '' ? null : idempotencyKeyProblem(idempotencyKey);
      if (keyProblem !== null) {
        sendError(res, Failures.invalidIdempotencyKey.http, `Idempotency-Key header: ${keyProblem}`);
        return;
      }
      if (body.length === 0) {
        sendError(res, Failures.emptyBody.http, 'the request body is the message data and must not be empty');
        return;
      }
      let aborted = false;
      res.onAborted(() => (aborted = true));
      const options = idempotencyKey === '' ? undefined : { idempotencyKey };
      ctx.broker.publish(channel, body, options).then(
        ({ position, repeated }) => {
          if (!repeated) ctx.stats.publishedHttp++;
          if (aborted) return;
          const size = body.length;
          sendJson(res, '200 OK', options === undefined ? { ok: true, channel, size, ...position } : { ok: true, channel, size, ...position, repeated });
        },
        (err: Error) => {
          ctx.stats.publishFailures++;
          ctx.logger.warn({ channel, err: err.message }, 'http publish failed');
          if (!aborted) sendError(res, Failures.brokerUnavailable.http, `the broker did not accept the message: ${err.message}`);
        },
      );
    });
  };
}

function readCount(params: URLSearchParams, name: string, fallback: number): number | string {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,15}$/.test(raw)) return `${name} must be a non-negative integer`;
  return Number(raw);
}

function historyHandler(ctx: HttpContext) {
  return (res: HttpResponse, req: HttpRequest): void => {
    if (!authorized(ctx, res, req)) return;
    const channel = req.getParameter(0) ?? '';
    const params = new URLSearchParams(req.getQuery());
    const problem = channelNameProblem(channel);
    if (problem !== null) {
      sendError(res, Failures.invalidChannel.http, problem);
      return;
    }
    const size = ctx.policies.for(channel).size;
    const since = readCount(params, 'since', 0);
    const limit = readCount(params, 'limit', size);
    if (typeof since === 'string' || typeof limit === 'string') {
      sendError(res, Failures.invalidParameter.http, typeof since === 'string' ? since : (limit as string));
      return;
    }
    let aborted = false;
    res.onAborted(() => (aborted = true));
    ctx.broker.history(channel, since, Math.min(limit, size)).then(
      (page) => {
        if (aborted) return;
        if (page === null) {
          sendError(res, Failures.noHistory.http, `channel ${channel} keeps no history (size 0 from --history-size / --history-namespaces)`);
          return;
        }
        const publications = page.publications.map(toJsonPublication).filter((p) => p !== null);
        sendJson(res, '200 OK', { channel, epoch: page.epoch, offset: page.top, publications });
      },
      (err: Error) => {
        if (!aborted) sendError(res, Failures.brokerUnavailable.http, `history could not be read: ${err.message}`);
      },
    );
  };
}

/** Registers the HTTP API: publish, batch publish, history, /healthz, /readyz, and JSON 404/405 answers for the rest. */
export function registerHttpRoutes(app: TemplatedApp, ctx: HttpContext): void {
  app.post(PUBLISH_ROUTE, publishHandler(ctx));
  app.any(PUBLISH_ROUTE, methodNotAllowed('POST'));
  app.post(BATCH_PUBLISH_ROUTE, batchPublishHandler(ctx, (res, req) => authorized(ctx, res, req)));
  app.any(BATCH_PUBLISH_ROUTE, methodNotAllowed('POST'));
  app.get(HISTORY_ROUTE, historyHandler(ctx));
  app.any(HISTORY_ROUTE, methodNotAllowed('GET'));
  app.get('/healthz', (res) => sendJson(res, '200 OK', HEALTH_BODY));
  app.any('/healthz', methodNotAllowed('GET'));
  app.get('/readyz', (res) => {
    const answer = readiness(ctx.readiness);
    sendJson(res, answer.ready ? '200 OK' : '503 Service Unavailable', answer.body);
  });
  app.any('/readyz', methodNotAllowed('GET'));
  app.any('/ws', (res) => {
    sendError(res, Failures.upgradeRequired.http, '/ws is the WebSocket endpoint: connect with a WebSocket client', { Upgrade: 'websocket' });
  });
  registerClientBundleRoute(app);
  registerPresenceRoutes(app, ctx.presence ?? null, (res, req) => authorized(ctx, res, req), methodNotAllowed);
  if (ctx.demo === true) registerDemoRoutes(app);
  app.any('/*', (res, req) => {
    sendError(res, Failures.notFound.http, `no route for ${req.getMethod().toUpperCase()} ${req.getUrl()}; see docs/PROTOCOL.md`);
  });
}
