import { channelNameProblem } from '../protocol/channel-name';

/** Why a channel pattern is invalid, or null: `*`, `prefix*` or an exact channel name. */
export function patternProblem(pattern: string): string | null {
  if (pattern === '*') return null;
  const exact = pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
  const problem = channelNameProblem(exact);
  return problem === null ? null : `pattern ${JSON.stringify(pattern)}: ${problem}`;
}

/** A set of channel patterns: `*` (every channel), `prefix*` (a namespace) or exact names. */
export class ChannelPatterns {
  /** True when there are no patterns: nothing matches. */
  readonly empty: boolean;
  private readonly all: boolean;
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];

  constructor(patterns: readonly string[]) {
    this.empty = patterns.length === 0;
    this.all = patterns.includes('*');
    for (const p of patterns) {
      if (p === '*') continue;
      if (p.endsWith('*')) this.prefixes.push(p.slice(0, -1));
      else this.exact.add(p);
    }
  }

  /** True when `channel` matches one of the patterns. */
  matches(channel: string): boolean {
    if (this.all || this.exact.has(channel)) return true;
    for (const prefix of this.prefixes) if (channel.startsWith(prefix)) return true;
    return false;
  }
}
