import { ChannelPatterns } from './channel-patterns';
import type { TokenClaims } from './jwt-verifier';

/** What one connection may do: the server's channel patterns, narrowed by its token's claims. */
export class Access {
  /** The user id from the token, or null for an anonymous connection. */
  readonly subject: string | null;
  /** When the token expires (ms since the epoch), or null. */
  readonly expiresAt: number | null;
  private readonly tokenSubscribe: ChannelPatterns | null;
  private readonly tokenPublish: ChannelPatterns | null;

  constructor(
    private readonly serverSubscribe: ChannelPatterns,
    private readonly serverPublish: ChannelPatterns,
    claims: TokenClaims | null,
  ) {
    this.subject = claims?.subject ?? null;
    this.expiresAt = claims?.expiresAt ?? null;
    this.tokenSubscribe = claims?.subscribe ? new ChannelPatterns(claims.subscribe) : null;
    this.tokenPublish = claims?.publish ? new ChannelPatterns(claims.publish) : null;
  }

  /** True when this connection may subscribe to `channel`. */
  canSubscribe(channel: string): boolean {
    return this.serverSubscribe.matches(channel) && (this.tokenSubscribe === null || this.tokenSubscribe.matches(channel));
  }

  /** True when this connection may publish to `channel`. */
  canPublish(channel: string): boolean {
    return this.serverPublish.matches(channel) && (this.tokenPublish === null || this.tokenPublish.matches(channel));
  }
}
