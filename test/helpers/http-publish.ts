import type { TestClient } from './test-client';

/** A JSON answer of the HTTP API. */
export type Json = Record<string, unknown>;

/** POST /v1/channels/{channel}/publish with `body`, and an Idempotency-Key header when `key` is given. */
export async function publishOne(base: string, channel: string, body: string, key?: string): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = key === undefined ? {} : { 'idempotency-key': key };
  const res = await fetch(`${base}/v1/channels/${channel}/publish`, { method: 'POST', body, headers });
  return { status: res.status, json: (await res.json()) as Json };
}

/** POST /v1/publish with a body as given (text or bytes) and its content type. */
export async function publishBatch(base: string, body: string | Buffer, contentType = 'application/json'): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${base}/v1/publish`, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: { 'content-type': contentType },
  });
  return { status: res.status, json: (await res.json()) as Json };
}

/** What `client` received on `channel`: [offset, data as text] each. */
export const textOf = (client: TestClient, channel: string): Array<[number | null, string]> =>
  client.publications(channel).map((p) => [p.offset, Buffer.from(p.data).toString()]);
