import { Controller, Get } from '@nestjs/common';
import { OpsService } from './ops.service';

@Controller('v1/ops')
export class OpsController {
  constructor(private readonly ops: OpsService) {}

  /** 200 whatever the verdict: the body says ok, degraded or down, and why, per app. */
  @Get('health')
  health() {
    return this.ops.health();
  }
}
