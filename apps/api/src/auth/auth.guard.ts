import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '@app/contracts';
import type { FastifyRequest } from 'fastify';
import { AuthUser } from './auth-user';
import { CredentialsCache } from './credentials.cache';
import { TokenService } from './token.service';
import { AuthErrorCodes } from './auth-errors';

export const AUTH_ROLES = 'auth:roles';

export type AuthenticatedRequest = FastifyRequest & { user?: AuthUser };

/** The bearer token of a request, or undefined when there is none. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * 401 without a valid token (signature, issuer, audience, expiry, credentials version),
 * 403 when the user lacks every role the route names. Roles come from account (cached), not
 * only from the token, so a revoked role stops working within the cache's lifetime.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly credentials: CredentialsCache,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const required = this.reflector.getAllAndOverride<string[] | undefined>(AUTH_ROLES, [context.getHandler(), context.getClass()]) ?? [];
    await this.authenticate(request, required);
    return true;
  }

  /** The request's user (also set on the request), or the 401/403 DomainError the route answers. */
  async authenticate(request: AuthenticatedRequest, required: string[] = []): Promise<AuthUser> {
    const token = bearerToken(request);
    if (!token) {
      throw new DomainError(
        AuthErrorCodes.MissingToken,
        'unauthenticated',
        'Sign in first: send "Authorization: Bearer <accessToken>" from POST /v1/auth/login.',
      );
    }
    const claims = this.tokens.verify(token);
    const current = await this.credentials.get(claims.sub);
    if (claims.cv !== current.credentialsVersion) {
      throw new DomainError(AuthErrorCodes.TokenRevoked, 'unauthenticated', 'The password changed after this token was issued; sign in again.');
    }
    const user = { id: current.id, email: current.email, roles: current.roles };
    request.user = user;
    if (required.length > 0 && !required.some((role) => current.roles.includes(role))) {
      throw new DomainError(AuthErrorCodes.Forbidden, 'forbidden', `This needs the role ${required.map((r) => `"${r}"`).join(' or ')}.`);
    }
    return user;
  }
}
