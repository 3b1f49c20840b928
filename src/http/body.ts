import type { HttpResponse } from '../uws/uws';

/** Why a request body could not be read. */
export type BodyProblem = 'too_large' | 'aborted';

/**
 * Reads a request body of at most `limit` bytes. Calls `done` with a copy of the body, or with
 * the problem; a declared or actual size over the limit stops reading at once.
 */
export function readBody(res: HttpResponse, contentLength: number | null, limit: number, done: (body: Buffer | BodyProblem) => void): void {
  let finished = false;
  const finish = (result: Buffer | BodyProblem): void => {
    if (finished) return;
    finished = true;
    done(result);
  };
  res.onAborted(() => finish('aborted'));
  if (contentLength !== null && contentLength > limit) {
    finish('too_large');
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  res.onData((chunk, isLast) => {
    if (finished) return;
    size += chunk.byteLength;
    if (size > limit) {
      finish('too_large');
      return;
    }
    // uWS reuses the chunk's memory after this callback returns: copy it.
    chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (isLast) finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  });
}
