import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AuthenticatedRequest, AuthGuard, bearerToken } from '../auth/auth.guard';
import { OPS_ROLES, OpsService } from './ops.service';

@Controller('v1/ops')
export class OpsController {
  constructor(
    private readonly ops: OpsService,
    private readonly auth: AuthGuard,
  ) {}

  /**
   * Without a token (uptime checkers): only `{ status }`. With an admin or ops token: every app's
   * readiness and every consumer group's lag. 200 for ok and degraded, 503 when no app is ready.
   */
  @Get('health')
  async health(@Req() request: AuthenticatedRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const anonymous = bearerToken(request) === undefined;
    if (!anonymous) await this.auth.authenticate(request, OPS_ROLES);
    const health = await this.ops.health();
    if (health.status === 'down') void reply.status(503);
    return anonymous ? { status: health.status } : health;
  }
}
