/** Longest allowed channel name, in characters (all allowed characters are ASCII, so also bytes). */
export const MAX_CHANNEL_LENGTH = 255;

const CHANNEL_PATTERN = /^[A-Za-z0-9_.:@=-]+$/;

/** Why a channel name is refused, or null when it is valid. */
export function channelNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'channel must be a string';
  if (name.length === 0) return 'channel must not be empty';
  if (name.length > MAX_CHANNEL_LENGTH) return `channel is longer than ${MAX_CHANNEL_LENGTH} characters`;
  if (!CHANNEL_PATTERN.test(name)) return 'channel may only contain A-Z a-z 0-9 _ . : @ = -';
  return null;
}

/** True when `name` is a valid channel name. */
export function isValidChannelName(name: unknown): name is string {
  return channelNameProblem(name) === null;
}
