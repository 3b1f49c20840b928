import { type HttpFailure, statusLine } from '../protocol/errors';
import type { HttpResponse } from '../uws/uws';

/** Writes a JSON response with `status` (e.g. "200 OK") in one corked write. */
export function sendJson(res: HttpResponse, status: string, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** Writes JSON text already encoded (a hot path's own encoder) with `status`, in one corked write. */
export function sendJsonText(res: HttpResponse, status: string, json: string, headers: Record<string, string> = {}): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', 'application/json');
    for (const [key, value] of Object.entries(headers)) res.writeHeader(key, value);
    res.end(json);
  });
}

/** Writes a catalogued failure: its status and the JSON body `{ "error": <its error string>, "message": text }`. */
export function sendError(res: HttpResponse, failure: HttpFailure, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, statusLine(failure.status), { error: failure.error, message }, headers);
}
