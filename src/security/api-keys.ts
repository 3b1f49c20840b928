import { createHash, timingSafeEqual } from 'node:crypto';

/** Result of checking an HTTP request's API key. */
export type ApiKeyVerdict = 'ok' | 'missing' | 'wrong';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Checks `Authorization: Bearer <key>` against the configured keys in constant time. */
export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  /** True when the HTTP API requires a key. */
  get required(): boolean {
    return this.digests.length > 0;
  }

  /** Judges an Authorization header value (empty when absent). */
  check(authorization: string): ApiKeyVerdict {
    if (!this.required) return 'ok';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match === null) return 'missing';
    // Compare digests (equal lengths) with every key, without stopping early.
    const candidate = digest(match[1]!);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(candidate, known) || ok;
    return ok ? 'ok' : 'wrong';
  }
}
