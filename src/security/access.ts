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
  constructor(
    private readonly serverSubscribe: ChannelPatterns,
    private readonly serverPublish: ChannelPatterns,
    private readonly grants: Grants,
    subject: string | null,
    expiresAt: number | null,
  ) {
    this.subject = subject;
    this.expiresAt = expiresAt;
  }

  /** True when this connection may subscribe to `channel`. */
  canSubscribe(channel: string): boolean {
    return this.serverSubscribe.matches(channel) && (this.grants.subscribe === null || this.grants.subscribe.matches(channel));
  }

  /** True when this connection may publish to `channel`. */
  canPublish(channel: string): boolean {
    return this.serverPublish.matches(channel) && (this.grants.publish === null || this.grants.publish.matches(channel));
  }
}
