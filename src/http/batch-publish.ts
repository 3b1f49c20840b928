import { unpack } from 'msgpackr';
import type { PublishResult } from '../broker/broker';
import { channelNameProblem } from '../protocol/channel-name';
import { idempotencyKeyProblem } from '../protocol/idempotency-key';
import { Failures, statusLine } from '../protocol/errors';
import type { HttpRequest, HttpResponse } from '../uws/uws';
import { readBody } from './body';
import { type BatchItemResult, batchReplyJson } from './batch-reply';
import { sendError, sendJsonText } from './reply';
import type { HttpContext } from './routes';

/** Path of the batch publish endpoint: many publications, to one or many channels, in one request. */
export const BATCH_PUBLISH_ROUTE = '/v1/publish';

/** A valid item, or the failure of an invalid one. */
type ParsedItem = { channel: string; data: Buffer; idempotencyKey: string | undefined } | { failure: BatchItemResult };

function fail(channel: string | null, error: string, message: string): { failure: BatchItemResult } {
  return { failure: { ok: false, channel, error, message } };
}

/** The data bytes of one item: JSON `data` (a string as its UTF-8 bytes, any other value as its JSON text) or `base64`; msgpack `data` bin or str. */
function itemData(item: Record<string, unknown>, json: boolean): Buffer | string {
  const { data, base64 } = item;
  if (json && typeof base64 === 'string') {
    if (data !== undefined) return 'give either data or base64, not both';
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return 'base64 is not valid base64';
    return Buffer.from(base64, 'base64');
  }
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (json && data !== undefined) return Buffer.from(JSON.stringify(data), 'utf8');
  return json ? 'an item needs data (any JSON value) or base64 (a string)' : 'an item needs data (bin or str)';
}

function parseItem(raw: unknown, json: boolean, maxMessageSize: number): ParsedItem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return fail(null, Failures.invalidBatch.http.error, 'an item must be an object {channel, data}');
  const item = raw as Record<string, unknown>;
  if (typeof item.channel !== 'string') return fail(null, Failures.invalidBatch.http.error, 'an item needs channel (a string)');
  const channel = item.channel;
  const problem = channelNameProblem(channel);
  if (problem !== null) return fail(channel, Failures.invalidChannel.http.error, problem);
  const data = itemData(item, json);
  if (typeof data === 'string') return fail(channel, Failures.invalidBatch.http.error, data);
  if (data.length === 0) return fail(channel, Failures.emptyBody.http.error, 'the data must not be empty');
  if (data.length > maxMessageSize)
    return fail(channel, Failures.messageTooLarge.http.error, `the data is over the ${maxMessageSize}-byte limit (--max-message-size)`);
  const idempotencyKey = item.idempotency_key;
  if (idempotencyKey === undefined) return { channel, data, idempotencyKey };
  const keyProblem = idempotencyKeyProblem(idempotencyKey);
  if (keyProblem !== null) return fail(channel, Failures.invalidIdempotencyKey.http.error, `idempotency_key: ${keyProblem}`);
  return { channel, data, idempotencyKey: idempotencyKey as string };
}

/** Decodes a batch body: `{"publications": [item, …]}` as JSON or msgpack; a string says why it is not one. */
export function parseBatch(body: Buffer, contentType: string, maxMessageSize: number): ParsedItem[] | string {
  const msgpack = /^application\/(x-)?msgpack\b/i.test(contentType);
  let decoded: unknown;
  try {
    decoded = msgpack ? unpack(body) : JSON.parse(body.toString('utf8'));
  } catch (err) {
    return `the body is not ${msgpack ? 'msgpack' : 'JSON'} (${(err as Error).message}); send {"publications": [{"channel", "data"}, …]} as application/json or application/msgpack`;
  }
  const list = typeof decoded === 'object' && decoded !== null ? (decoded as { publications?: unknown }).publications : undefined;
  if (!Array.isArray(list)) return 'the body must be an object with a publications array';
  if (list.length === 0) return 'publications is empty';
  return list.map((raw) => parseItem(raw, !msgpack, maxMessageSize));
}

/**
 * Publishes the valid items: per channel, in body order, one broker call (`publishMany`), each
 * item getting its own offset (or, repeating an idempotency key, the first result); fills
 * `results` at the items' indexes.
 */
async function publishItems(ctx: HttpContext, items: ParsedItem[], results: BatchItemResult[]): Promise<void> {
  const byChannel = new Map<string, number[]>();
  items.forEach((item, index) => {
    if ('failure' in item) {
      results[index] = item.failure;
      return;
    }
    const list = byChannel.get(item.channel);
    if (list === undefined) byChannel.set(item.channel, [index]);
    else list.push(index);
  });
  await Promise.all(
    [...byChannel].map(async ([channel, indexes]) => {
      const valid = indexes.map((i) => items[i] as { data: Buffer; idempotencyKey: string | undefined });
      const data = valid.map((item) => item.data);
      const options = valid.some((item) => item.idempotencyKey !== undefined) ? valid.map(({ idempotencyKey }) => ({ idempotencyKey })) : undefined;
      let published: PublishResult[];
      try {
        published = await ctx.broker.publishMany(channel, data, options);
      } catch (err) {
        ctx.stats.publishFailures += indexes.length;
        ctx.logger.warn({ channel, items: indexes.length, err: (err as Error).message }, 'http batch publish failed');
        for (const i of indexes)
          results[i] = {
            ok: false,
            channel,
            error: Failures.brokerUnavailable.http.error,
            message: `the broker did not accept the publications: ${(err as Error).message}`,
          };
        return;
      }
      indexes.forEach((i, k) => {
        const { position, repeated } = published[k]!;
        if (!repeated) ctx.stats.publishedHttp++;
        const withKey = valid[k]!.idempotencyKey === undefined ? {} : { repeated };
        results[i] = { ok: true, channel, size: data[k]!.length, ...position, ...withKey };
      });
    }),
  );
}

/** POST /v1/publish: many publications in one request, a result per item (docs/PROTOCOL.md). */
export function batchPublishHandler(ctx: HttpContext, authorized: (res: HttpResponse, req: HttpRequest) => boolean) {
  return (res: HttpResponse, req: HttpRequest): void => {
    if (!authorized(res, req)) return;
    const contentType = req.getHeader('content-type');
    const lengthHeader = req.getHeader('content-length');
    const contentLength = lengthHeader === '' ? null : Number(lengthHeader);
    const limit = ctx.options.maxBatchBytes;
    readBody(res, Number.isFinite(contentLength) ? contentLength : null, limit, (body) => {
      if (body === 'aborted') return;
      if (body === 'too_large') {
        res.cork(() => {
          res.writeStatus(statusLine(Failures.messageTooLarge.http.status)).writeHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ error: Failures.messageTooLarge.http.error, message: `body is over the ${limit}-byte limit (--max-batch-bytes)` }), true);
        });
        return;
      }
      const items = parseBatch(body, contentType, ctx.options.maxMessageSize);
      if (typeof items === 'string') {
        sendError(res, Failures.invalidBatch.http, items);
        return;
      }
      let aborted = false;
      res.onAborted(() => (aborted = true));
      const results = new Array<BatchItemResult>(items.length);
      void publishItems(ctx, items, results).then(() => {
        if (aborted) return;
        const published = results.filter((r) => r.ok).length;
        sendJsonText(res, '200 OK', batchReplyJson(published, results));
      });
    });
  };
}
