import { Global, Module } from '@nestjs/common';
import { AuthGuard } from './auth.guard';
import { CredentialsCache, CredentialsChangedController } from './credentials.cache';
import { TokenService } from './token.service';

/** Global, so every feature module's controllers can use `@Auth()` without importing it. */
@Global()
@Module({
  controllers: [CredentialsChangedController],
  providers: [TokenService, CredentialsCache, AuthGuard],
  exports: [TokenService, CredentialsCache, AuthGuard],
})
export class AuthModule {}
