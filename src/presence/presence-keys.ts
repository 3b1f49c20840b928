/**
 * Redis names of one channel's presence. All of them carry the channel name as their hash tag
 * (channel names never contain braces), so one Lua script touches them all on a single Redis and
 * on a Redis Cluster alike: entries hash `<prefix>{<channel>}p:c`, users hash `…p:u`, node
 * deadlines zset `…p:n`, each node's client set `…p:s:<node>`, events shard channel `…p:e`.
 */
export class PresenceKeys {
  constructor(private readonly prefix: string) {
    if (/[{}]/.test(prefix))
      throw new Error(`the Redis prefix "${prefix}" contains { or }: the channel must be the first {…} of every presence key; choose a prefix without braces`);
  }

  private head(channel: string): string {
    return `${this.prefix}{${channel}}p:`;
  }

  /** Hash client id → entry JSON. */
  clients(channel: string): string {
    return `${this.head(channel)}c`;
  }

  /** Hash user → number of its connections present. */
  users(channel: string): string {
    return `${this.head(channel)}u`;
  }

  /** Zset node id → heartbeat deadline (ms). */
  nodes(channel: string): string {
    return `${this.head(channel)}n`;
  }

  /** Prefix of the per-node client sets (`…p:s:<node>`). */
  nodeSetBase(channel: string): string {
    return `${this.head(channel)}s:`;
  }

  /** Shard channel carrying the join and leave batches. */
  events(channel: string): string {
    return `${this.head(channel)}e`;
  }

  /** The channel of an events shard channel name, or null when it is not one. */
  channelOfEvents(name: string): string | null {
    if (!name.startsWith(`${this.prefix}{`) || !name.endsWith('}p:e')) return null;
    return name.slice(this.prefix.length + 1, -4);
  }
}
