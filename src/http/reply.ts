import type { HttpResponse } from '../uws/uws';

/** Writes a JSON response with `status` (e.g. "200 OK") in one corked write. */
export function sendJson(res: HttpResponse, status: string, body: unknown, headers: Record<string, string> = {}): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', 'application/json');
    for (const [key, value] of Object.entries(headers)) res.writeHeader(key, value);
    res.end(JSON.stringify(body));
  });
}

/** Writes the documented JSON error body `{ "error": code, "message": text }`. */
export function sendError(res: HttpResponse, status: string, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: code, message }, headers);
}
