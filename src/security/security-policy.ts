import type { Options } from '../config/options';
import { Access } from './access';
import { ApiKeys } from './api-keys';
import { ChannelPatterns } from './channel-patterns';
import { ConnectionLimits } from './connection-limits';
import { JwtVerifier, type TokenClaims } from './jwt-verifier';
import { RateLimiter } from './rate-limiter';

/** Everything the transport needs to authenticate, authorise and limit clients. */
export class SecurityPolicy {
  /** Token verifier, or null when no key is configured. */
  readonly verifier: JwtVerifier | null;
  /** Access of anonymous connections, or null when anonymous access is off. */
  readonly anonymous: Access | null;
  /** HTTP API keys. */
  readonly apiKeys: ApiKeys;
  /** Connection counts and limits. */
  readonly limits: ConnectionLimits;
  /** Per-connection inbound rate limits. */
  readonly rate: RateLimiter;
  private readonly origins: ReadonlySet<string> | null;
  private readonly subscribe: ChannelPatterns;
  private readonly publish: ChannelPatterns;

  constructor(options: Readonly<Options>) {
    this.verifier = JwtVerifier.fromOptions(options);
    this.subscribe = new ChannelPatterns(options.clientSubscribe);
    this.publish = new ChannelPatterns(options.clientPublish);
    this.anonymous = options.anonymous === 'allow' && this.verifier === null ? new Access(this.subscribe, this.publish, null) : null;
    this.apiKeys = new ApiKeys(options.apiKeys);
    this.limits = new ConnectionLimits(options.maxConnections, options.maxConnectionsPerIp);
    this.rate = new RateLimiter(options.rateLimitMessages, options.rateLimitBytes);
    this.origins = options.allowedOrigins.length > 0 ? new Set(options.allowedOrigins) : null;
  }

  /** True when a WebSocket from `origin` (empty: no Origin header) may connect. */
  originAllowed(origin: string): boolean {
    return this.origins === null || origin === '' || this.origins.has(origin);
  }

  /** Access for a verified token. */
  accessFor(claims: TokenClaims): Access {
    return new Access(this.subscribe, this.publish, claims);
  }
}
