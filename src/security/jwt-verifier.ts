import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ConfigError } from '../config/config-error';
import type { Options } from '../config/options';
import { patternProblem } from './channel-patterns';

/** What a verified connection token grants. */
export interface TokenClaims {
  /** The user id (`sub`). */
  subject: string;
  /** Expiry in ms since the epoch (`exp`), or null when the token does not expire. */
  expiresAt: number | null;
  /** Channel patterns the user may subscribe to (`subscribe` claim), or null: no restriction beyond the server's. */
  subscribe: string[] | null;
  /** Channel patterns the user may publish to (`publish` claim), or null: no restriction beyond the server's. */
  publish: string[] | null;
}

/** A token was refused; the message says why (sent to the client). */
export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

function readPatterns(payload: JWTPayload, claim: 'subscribe' | 'publish'): string[] | null {
  const value = payload[claim];
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string' || patternProblem(p) !== null)) {
    throw new TokenError(`claim "${claim}" must be an array of channel patterns (*, prefix* or channel names)`);
  }
  return value as string[];
}

/** Verifies connection tokens (JWT) with the key the options configure. */
export class JwtVerifier {
  private constructor(
    private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey,
    private readonly algorithms: string[],
  ) {}

  /** Builds the verifier from the options, or returns null when no key is configured. */
  static fromOptions(options: Readonly<Options>): JwtVerifier | null {
    if (options.jwtSecret !== null) return new JwtVerifier(new TextEncoder().encode(options.jwtSecret), ['HS256']);
    if (options.jwtPublicKey !== null) {
      let key: KeyObject;
      try {
        key = createPublicKey(readFileSync(options.jwtPublicKey));
      } catch (err) {
        throw new ConfigError('jwtPublicKey', `--jwt-public-key ${options.jwtPublicKey} is not a PEM public key: ${(err as Error).message}`);
      }
      if (key.asymmetricKeyType === 'rsa') return new JwtVerifier(key, ['RS256']);
      if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return new JwtVerifier(key, ['ES256']);
      throw new ConfigError('jwtPublicKey', `--jwt-public-key must be an RSA (RS256) or EC P-256 (ES256) public key, got ${key.asymmetricKeyType}`);
    }
    if (options.jwksFile !== null) {
      let jwks: JSONWebKeySet;
      try {
        jwks = JSON.parse(readFileSync(options.jwksFile, 'utf8')) as JSONWebKeySet;
        if (!Array.isArray(jwks.keys)) throw new Error('no "keys" array');
      } catch (err) {
        throw new ConfigError('jwksFile', `--jwks-file ${options.jwksFile} is not a JWKS document: ${(err as Error).message}`);
      }
      return new JwtVerifier(createLocalJWKSet(jwks), ['RS256', 'ES256']);
    }
    return null;
  }

  /** Verifies signature, algorithm, `exp` and `nbf`; returns the claims or throws TokenError. */
  async verify(token: string): Promise<TokenClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key as Uint8Array, { algorithms: this.algorithms }));
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code === 'ERR_JWT_EXPIRED') throw new TokenError('token expired');
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') throw new TokenError(`token not valid: ${(err as Error).message}`);
      if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') throw new TokenError(`token algorithm not allowed; expected ${this.algorithms.join(' or ')}`);
      throw new TokenError('token signature or format invalid');
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new TokenError('token has no "sub" (user id) claim');
    return {
      subject: payload.sub,
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : null,
      subscribe: readPatterns(payload, 'subscribe'),
      publish: readPatterns(payload, 'publish'),
    };
  }
}
