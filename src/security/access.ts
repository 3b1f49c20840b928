import type { ChannelPatterns } from './channel-patterns';

/** The channel patterns a token grants (null: no restriction beyond the server's); shared by equal claims. */
export interface Grants {
  subscribe: ChannelPatterns | null;
  publish: ChannelPatterns | null;
}

/** Grants of connections without a token. */
export const NO_TOKEN_GRANTS: Grants = { subscribe: null, publish: null };

/** What one connection may do: the server's channel patterns, narrowed by its token's claims. */
export class Access {
  /** The user id from the token, or null for an anonymous connection. */
  readonly subject: string | null;
  /** When the token expires (ms since the epoch), or null. */
  readonly expiresAt: number | null;
  /** The token's presence info claim (`--presence-info-claim`), or null. */
  readonly info: unknown;
  constructor(
    private readonly serverSubscribe: ChannelPatterns,
    private readonly serverPublish: ChannelPatterns,
    private readonly grants: Grants,
    subject: string | null,
    expiresAt: number | null,
    info: unknown = null,
  ) {
    this.subject = subject;
    this.expiresAt = expiresAt;
    this.info = info;
  }

  /** True when this connection may subscribe to `channel`. */
  canSubscribe(channel: string): boolean {
    return this.serverSubscribe.matches(channel) && (this.grants.subscribe === null || this.grants.subscribe.matches(channel));
  }

  /**
   * True when this connection may publish to `channel`. Without server patterns (the default),
   * only a token's `publish` claim grants publishing; with them, the claim narrows them.
   */
  canPublish(channel: string): boolean {
    if (this.serverPublish.empty) return this.grants.publish !== null && this.grants.publish.matches(channel);
    return this.serverPublish.matches(channel) && (this.grants.publish === null || this.grants.publish.matches(channel));
  }

  /** The error 108 message for a publish to `channel` that canPublish refused; it names the fix. */
  publishRefusal(channel: string): string {
    if (this.serverPublish.empty && this.grants.publish === null) {
      return `not allowed to publish to ${channel}: client publishing is off unless the server lists the channel in --client-publish or the token's "publish" claim grants it; publish from a backend (HTTP API, Redis) instead`;
    }
    return `not allowed to publish to ${channel}: it is outside --client-publish or the token's "publish" claim; publish from a backend instead`;
  }
}
