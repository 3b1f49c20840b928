import { randomBytes } from 'node:crypto';

/** A new random epoch: 12 URL-safe characters, unique per history lifetime. */
export function newEpoch(): string {
  return randomBytes(9).toString('base64url');
}
