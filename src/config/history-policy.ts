import { ConfigError } from './config-error';
import type { Options } from './options';

/** How much history one channel keeps. */
export interface HistoryPolicy {
  /** Publications kept; 0 means no history and no offsets. */
  size: number;
  /** Seconds the history lives after the channel's last publication. */
  ttl: number;
}

/** A namespace override parsed from `--history-namespaces`. */
export interface NamespacePolicy extends HistoryPolicy {
  /** Channel-name prefix the override applies to. */
  prefix: string;
}

const ENTRY = /^([A-Za-z0-9_.:@=-]+)=(\d+)\/(\d+)$/;

/** Parses `prefix=size/ttl,...`; throws ConfigError naming the bad entry. */
export function parseNamespaces(text: string): NamespacePolicy[] {
  if (text.trim() === '') return [];
  return text.split(',').map((raw) => {
    const entry = raw.trim();
    const match = ENTRY.exec(entry);
    if (match === null) {
      throw new ConfigError('historyNamespaces', `invalid history namespace ${JSON.stringify(entry)}: set --history-namespaces / BROADCASTER_HISTORY_NAMESPACES to prefix=size/ttl entries, e.g. "chat:=100/300"`);
    }
    const ttl = Number(match[3]);
    const size = Number(match[2]);
    if (size > 0 && ttl === 0) {
      throw new ConfigError('historyNamespaces', `invalid history namespace ${JSON.stringify(entry)}: a ttl of 0 seconds needs size 0; give a ttl of at least 1 second`);
    }
    return { prefix: match[1]!, size, ttl };
  });
}

/** Resolves the history policy of any channel from the options (longest matching prefix wins). */
export class HistoryPolicies {
  private readonly namespaces: NamespacePolicy[];
  private readonly fallback: HistoryPolicy;

  constructor(options: Pick<Options, 'historySize' | 'historyTtl' | 'historyNamespaces'>) {
    this.namespaces = parseNamespaces(options.historyNamespaces).sort((a, b) => b.prefix.length - a.prefix.length);
    this.fallback = { size: options.historySize, ttl: options.historyTtl };
  }

  /** The policy of `channel`. */
  for(channel: string): HistoryPolicy {
    for (const ns of this.namespaces) if (channel.startsWith(ns.prefix)) return ns;
    return this.fallback;
  }
}
