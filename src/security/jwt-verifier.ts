import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
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
  /** Every claim of the verified payload (presence copies its info claim from here). */
  payload: Readonly<Record<string, unknown>>;
}

/** A token was refused; the message says why (sent to the client). */
export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

/** A verification key and the one algorithm it may be used with. */
interface VerificationKey {
  key: string | KeyObject;
  algorithm: Algorithm;
}

function readPatterns(payload: JwtPayload, claim: 'subscribe' | 'publish'): string[] | null {
  const value: unknown = payload[claim];
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string' || patternProblem(p) !== null)) {
    throw new TokenError(`claim "${claim}" must be an array of channel patterns (*, prefix* or channel names)`);
  }
  return value as string[];
}

/** The algorithm a public key verifies: RSA → RS256, EC P-256 → ES256. */
function algorithmOf(key: KeyObject, option: string): Algorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new ConfigError(option, `--${option === 'jwtPublicKey' ? 'jwt-public-key' : 'jwks-file'} keys must be RSA (RS256) or EC P-256 (ES256), got ${key.asymmetricKeyType}`);
}

/**
 * Verifies connection tokens (JWT) synchronously — inside the uWS upgrade handler, so a
 * connection with a valid token opens without an asynchronous step.
 */
export class JwtVerifier {
  private constructor(
    /** The key of tokens without `kid` (secret or PEM), or null with a JWKS. */
    private readonly single: VerificationKey | null,
    /** Keys by `kid`, from a JWKS file. */
    private readonly byKid: ReadonlyMap<string, VerificationKey>,
  ) {}

  /** Builds the verifier from the options, or returns null when no key is configured. */
  static fromOptions(options: Readonly<Options>): JwtVerifier | null {
    if (options.jwtSecret !== null) return new JwtVerifier({ key: options.jwtSecret, algorithm: 'HS256' }, new Map());
    if (options.jwtPublicKey !== null) {
      let key: KeyObject;
      try {
        key = createPublicKey(readFileSync(options.jwtPublicKey));
      } catch (err) {
        throw new ConfigError('jwtPublicKey', `--jwt-public-key ${options.jwtPublicKey} is not a PEM public key: ${(err as Error).message}`);
      }
      return new JwtVerifier({ key, algorithm: algorithmOf(key, 'jwtPublicKey') }, new Map());
    }
    if (options.jwksFile !== null) {
      const keys = new Map<string, VerificationKey>();
      try {
        const jwks = JSON.parse(readFileSync(options.jwksFile, 'utf8')) as { keys?: Array<JsonWebKey & { kid?: string }> };
        if (!Array.isArray(jwks.keys)) throw new Error('no "keys" array');
        for (const jwk of jwks.keys) {
          if (typeof jwk.kid !== 'string') throw new Error('every key needs a "kid"');
          const key = createPublicKey({ key: jwk, format: 'jwk' });
          keys.set(jwk.kid, { key, algorithm: algorithmOf(key, 'jwksFile') });
        }
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        throw new ConfigError('jwksFile', `--jwks-file ${options.jwksFile} is not a usable JWKS document: ${(err as Error).message}`);
      }
      return new JwtVerifier(null, keys);
    }
    return null;
  }

  private keyFor(token: string): VerificationKey {
    if (this.single !== null) return this.single;
    const header = jwt.decode(token, { complete: true })?.header;
    const key = header?.kid === undefined ? undefined : this.byKid.get(header.kid);
    if (key === undefined) throw new TokenError('token "kid" names no key of --jwks-file');
    return key;
  }

  /** Verifies signature, algorithm, `exp` and `nbf`; returns the claims or throws TokenError. */
  verify(token: string): TokenClaims {
    const { key, algorithm } = this.keyFor(token);
    let payload: JwtPayload;
    try {
      const verified = jwt.verify(token, key, { algorithms: [algorithm] });
      if (typeof verified === 'string') throw new TokenError('token payload must be a JSON object');
      payload = verified;
    } catch (err) {
      if (err instanceof TokenError) throw err;
      if (err instanceof jwt.TokenExpiredError) throw new TokenError('token expired');
      if (err instanceof jwt.NotBeforeError) throw new TokenError('token not valid yet ("nbf" is in the future)');
      if ((err as Error).message === 'invalid algorithm') throw new TokenError(`token algorithm not allowed; expected ${algorithm}`);
      throw new TokenError('token signature or format invalid');
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new TokenError('token has no "sub" (user id) claim');
    return {
      subject: payload.sub,
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : null,
      subscribe: readPatterns(payload, 'subscribe'),
      publish: readPatterns(payload, 'publish'),
      payload,
    };
  }
}
