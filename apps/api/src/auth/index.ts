export * from './auth-user';
export * from './auth.decorators';
export * from './auth.module';
export * from './token.service';
export * from './credentials.cache';
export { AuthGuard, bearerToken } from './auth.guard';
