import { Injectable } from '@nestjs/common';
import { JsonWebTokenError, JwtService, TokenExpiredError } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { DomainError } from '@app/contracts';
import { ApiEnv } from '../config/api.env';
import { AuthErrorCodes } from './auth-errors';

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

/** Tolerated clock skew between api instances, in seconds. */
const LEEWAY_S = 5;

function invalid(message: string): DomainError {
  return new DomainError(AuthErrorCodes.InvalidToken, 'unauthenticated', message);
}

/**
 * HS256 JSON Web Tokens (jsonwebtoken through @nestjs/jwt): only this algorithm is accepted (never `none`,
 * never one the token names), and issuer, audience and expiry are checked on every request.
 */
@Injectable()
export class TokenService {
  private readonly jwt: JwtService;

  constructor(private readonly env: ApiEnv) {
    this.jwt = new JwtService({ secret: env.JWT_SECRET });
  }

  get ttlSeconds(): number {
    return this.env.JWT_TTL_SECONDS;
  }

  sign(user: { id: string; email: string; roles: string[]; credentialsVersion: number }, now = Date.now()): string {
    const iat = Math.floor(now / 1000);
    return this.jwt.sign(
      { email: user.email, roles: user.roles, cv: user.credentialsVersion, iat, exp: iat + this.env.JWT_TTL_SECONDS },
      { algorithm: 'HS256', subject: user.id, issuer: this.env.JWT_ISSUER, audience: this.env.JWT_AUDIENCE, jwtid: randomUUID() },
    );
  }

  /** The token's claims, or a DomainError (unauthenticated) saying what is wrong with it. */
  verify(token: string, now = Date.now()): AccessTokenClaims {
    let claims: Partial<AccessTokenClaims>;
    try {
      claims = this.jwt.verify<AccessTokenClaims>(token, {
        algorithms: ['HS256'],
        issuer: this.env.JWT_ISSUER,
        audience: this.env.JWT_AUDIENCE,
        clockTimestamp: Math.floor(now / 1000),
        clockTolerance: LEEWAY_S,
      });
    } catch (error) {
      if (error instanceof TokenExpiredError) {
        throw new DomainError(AuthErrorCodes.TokenExpired, 'unauthenticated', 'The access token has expired; sign in again.');
      }
      const reason = error instanceof JsonWebTokenError ? error.message : 'malformed';
      throw invalid(`The access token is not valid (${reason}); sign in again.`);
    }
    // jsonwebtoken accepts a token without `exp` as one that never expires; ours always carry one.
    if (typeof claims.exp !== 'number') throw invalid('The access token has no expiry; sign in again.');
    if (typeof claims.sub !== 'string' || typeof claims.cv !== 'number' || !Array.isArray(claims.roles)) {
      throw invalid('The access token lacks required claims; sign in again.');
    }
    return claims as AccessTokenClaims;
  }
}
