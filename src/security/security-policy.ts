import type { Options } from '../config/options';
import { Access, NO_TOKEN_GRANTS, type Grants } from './access';
import { ApiKeys } from './api-keys';
import { ChannelPatterns } from './channel-patterns';
import { ConnectionLimits } from './connection-limits';
import { HttpApiAccess } from './http-api-access';
import { JwtVerifier, type TokenClaims } from './jwt-verifier';
import { RateLimiter } from './rate-limiter';
import { TrustedNetworks } from './trusted-networks';

/** Distinct channel grants kept for sharing between connections. */
const MAX_CACHED_GRANTS = 10_000;

/** Everything the transport needs to authenticate, authorise and limit clients. */
export class SecurityPolicy {
  /** Token verifier, or null when no key is configured. */
  readonly verifier: JwtVerifier | null;
  /** Access of anonymous connections, or null when anonymous access is off. */
  readonly anonymous: Access | null;
  /** HTTP API keys. */
  readonly apiKeys: ApiKeys;
  /** Who may call the HTTP API: key holders, or without keys the peers in trustedNetworks. */
  readonly apiAccess: HttpApiAccess;
  /** Connection counts and limits. */
  readonly limits: ConnectionLimits;
  /** Per-connection inbound rate limits. */
  readonly rate: RateLimiter;
  private readonly origins: ReadonlySet<string> | null;
  private readonly grantCache = new Map<string, Grants>();
  private readonly subscribe: ChannelPatterns;
  private readonly publish: ChannelPatterns;
  private readonly infoClaim: string;

  constructor(options: Readonly<Options>) {
    this.infoClaim = options.presenceInfoClaim;
    this.verifier = JwtVerifier.fromOptions(options);
    this.subscribe = new ChannelPatterns(options.clientSubscribe);
    this.publish = new ChannelPatterns(options.clientPublish);
    this.anonymous = options.anonymous === 'allow' && this.verifier === null ? new Access(this.subscribe, this.publish, NO_TOKEN_GRANTS, null, null) : null;
    this.apiKeys = new ApiKeys(options.apiKeys);
    this.apiAccess = new HttpApiAccess(this.apiKeys, new TrustedNetworks(options.trustedNetworks));
    this.limits = new ConnectionLimits(options.maxConnections, options.maxConnectionsPerIp);
    this.rate = new RateLimiter(options.rateLimitMessages, options.rateLimitBytes);
    this.origins = options.allowedOrigins.length > 0 ? new Set(options.allowedOrigins) : null;
  }

  /** True when a WebSocket from `origin` (empty: no Origin header) may connect. */
  originAllowed(origin: string): boolean {
    return this.origins === null || origin === '' || this.origins.has(origin);
  }

  /** Access for a verified token; connections whose tokens grant the same channels share their patterns. */
  accessFor(claims: TokenClaims): Access {
    return new Access(this.subscribe, this.publish, this.grantsFor(claims), claims.subject, claims.expiresAt, claims.payload[this.infoClaim] ?? null);
  }

  private grantsFor(claims: TokenClaims): Grants {
    if (claims.subscribe === null && claims.publish === null) return NO_TOKEN_GRANTS;
    const key = JSON.stringify([claims.subscribe, claims.publish]);
    let grants = this.grantCache.get(key);
    if (grants === undefined) {
      grants = {
        subscribe: claims.subscribe === null ? null : new ChannelPatterns(claims.subscribe),
        publish: claims.publish === null ? null : new ChannelPatterns(claims.publish),
      };
      if (this.grantCache.size >= MAX_CACHED_GRANTS) this.grantCache.clear();
      this.grantCache.set(key, grants);
    }
    return grants;
  }
}
