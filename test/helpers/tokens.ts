import { SignJWT, type JWTPayload } from 'jose';

/** A 48-byte HS256 secret for tests. */
export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

/** Signs an HS256 token with `claims`; `expiresIn` in seconds (negative: already expired). */
export async function hs256Token(claims: JWTPayload, options: { secret?: string; expiresIn?: number; notBefore?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now);
  if (options.expiresIn !== undefined) jwt = jwt.setExpirationTime(now + options.expiresIn);
  if (options.notBefore !== undefined) jwt = jwt.setNotBefore(now + options.notBefore);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

/** An unsigned token (`alg: none`) with `claims`: must always be refused. */
export function unsignedToken(claims: JWTPayload): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}
