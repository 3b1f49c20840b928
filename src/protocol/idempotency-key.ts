/** Longest allowed idempotency key, in characters (all allowed characters are ASCII, so also bytes). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128;

const KEY_PATTERN = /^[A-Za-z0-9_.:@=+/-]+$/;

/** Why an idempotency key is refused, or null when it is valid: 1 to 128 characters from A-Z a-z 0-9 _ . : @ = + / - (UUIDs, ULIDs, base64). */
export function idempotencyKeyProblem(key: unknown): string | null {
  if (typeof key !== 'string') return 'the idempotency key must be a string';
  if (key.length === 0) return 'the idempotency key must not be empty';
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) return `the idempotency key is longer than ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`;
  if (!KEY_PATTERN.test(key)) return 'the idempotency key may only contain A-Z a-z 0-9 _ . : @ = + / -';
  return null;
}
