import { Injectable } from '@nestjs/common';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { DomainError } from '@app/contracts';
import { ApiEnv } from '../config/api.env';

/** What an access token carries (JWT registered claims plus ours). */
export interface AccessTokenClaims {
  sub: string;
  email: string;
  roles: string[];
  /** The user's credentials version when the token was issued; a password change voids older tokens. */
  cv: number;
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
}

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
/** Tolerated clock skew between api instances, in seconds. */
const LEEWAY_S = 5;

function base64url(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

function invalid(message: string): DomainError {
  return new DomainError('AUTH.INVALID_TOKEN', 'unauthenticated', message);
}

/**
 * HS256 JSON Web Tokens, signed and checked here: only this algorithm is accepted (never `none`,
 * never one the token names), and issuer, audience and expiry are checked on every request.
 */
@Injectable()
export class TokenService {
  private readonly secret: Buffer;

  constructor(private readonly env: ApiEnv) {
    this.secret = Buffer.from(env.JWT_SECRET, 'utf8');
  }

  get ttlSeconds(): number {
    return this.env.JWT_TTL_SECONDS;
  }

  sign(user: { id: string; email: string; roles: string[]; credentialsVersion: number }, now = Date.now()): string {
    const iat = Math.floor(now / 1000);
    const claims: AccessTokenClaims = {
      sub: user.id,
      email: user.email,
      roles: user.roles,
      cv: user.credentialsVersion,
      iss: this.env.JWT_ISSUER,
      aud: this.env.JWT_AUDIENCE,
      iat,
      exp: iat + this.env.JWT_TTL_SECONDS,
      jti: randomUUID(),
    };
    const signingInput = `${HEADER}.${base64url(JSON.stringify(claims))}`;
    return `${signingInput}.${this.signature(signingInput).toString('base64url')}`;
  }

  /** The token's claims, or a DomainError (unauthenticated) saying what is wrong with it. */
  verify(token: string, now = Date.now()): AccessTokenClaims {
    const parts = token.split('.');
    if (parts.length !== 3) throw invalid('The access token is malformed; sign in again.');
    const [header, payload, signature] = parts;
    let parsedHeader: { alg?: unknown; typ?: unknown };
    let claims: Partial<AccessTokenClaims>;
    try {
      parsedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid('The access token is malformed; sign in again.');
    }
    if (parsedHeader?.alg !== 'HS256') throw invalid('The access token uses an algorithm this api does not accept.');
    const expected = this.signature(`${header}.${payload}`);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw invalid('The access token signature is invalid; sign in again.');
    }
    if (claims.iss !== this.env.JWT_ISSUER) throw invalid('The access token was issued by someone else.');
    if (claims.aud !== this.env.JWT_AUDIENCE) throw invalid('The access token is meant for another audience.');
    const nowS = Math.floor(now / 1000);
    if (typeof claims.exp !== 'number' || claims.exp + LEEWAY_S <= nowS) {
      throw new DomainError('AUTH.TOKEN_EXPIRED', 'unauthenticated', 'The access token has expired; sign in again.');
    }
    if (typeof claims.iat !== 'number' || claims.iat - LEEWAY_S > nowS) throw invalid('The access token is not valid yet.');
    if (typeof claims.sub !== 'string' || typeof claims.cv !== 'number' || !Array.isArray(claims.roles)) {
      throw invalid('The access token lacks required claims; sign in again.');
    }
    return claims as AccessTokenClaims;
  }

  private signature(signingInput: string): Buffer {
    return createHmac('sha256', this.secret).update(signingInput).digest();
  }
}
