/** A token, or a function giving a fresh one (called for every connection and every refresh). */
export type TokenSource = string | (() => string | Promise<string>);

function base64UrlDecode(text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The `exp` claim of a JWT in ms since 1970, or null when it has none or is not a readable JWT. Nothing is verified. */
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (part === undefined) return null;
  try {
    const exp = (JSON.parse(base64UrlDecode(part)) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * How long to wait before refreshing a token expiring at `expiresAt` (ms since 1970):
 * `refreshMargin` ms before expiry, or half-way through the remaining time when that is shorter.
 */
export function refreshDelay(expiresAt: number, now: number, refreshMargin: number): number {
  const remaining = expiresAt - now;
  if (remaining <= 0) return 0;
  return Math.floor(remaining - Math.min(refreshMargin, remaining / 2));
}
