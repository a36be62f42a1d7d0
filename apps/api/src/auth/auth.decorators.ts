import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import { AuthUser } from './auth-user';
import { AuthenticatedRequest, AUTH_ROLES, AuthGuard } from './auth.guard';

/**
 * `@Auth()`: any signed-in user; `@Auth('admin')`: a user with that role (any of several named).
 * On a method or a controller class. Routes without it are public.
 */
export function Auth(...roles: string[]) {
  return applyDecorators(SetMetadata(AUTH_ROLES, roles), UseGuards(AuthGuard));
}

/** The signed-in user of a route guarded by `@Auth`. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthUser => {
  const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
  if (!user) throw new Error('@CurrentUser() used on a route without @Auth()');
  return user;
});
