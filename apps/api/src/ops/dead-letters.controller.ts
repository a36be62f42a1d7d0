import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { DeadLetters, ReplayResult } from '@app/messaging';
import { Auth } from '../auth';
import { InspectDeadLettersQueryDto, ReplayDeadLettersRequestDto } from './dto/dead-letters.request.dto';
import { OPS_ROLES } from './ops.service';

const DEFAULT_LIMIT = 50;

/** The contract's answer to a replay: `{ replayed }`, plus the ids that were not replayed when there are any. */
function replayView(result: ReplayResult): { replayed: number; skipped?: string[] } {
  return result.skipped.length > 0 ? { replayed: result.replayed, skipped: result.skipped } : { replayed: result.replayed };
}

/** Dead letters of every topic and queue (API.md "Operators"): listed, inspected, replayed. Role admin or ops. */
@Controller('v1/ops/dead-letters')
@Auth(...OPS_ROLES)
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLetters) {}

  @Get()
  async list() {
    return { queues: await this.deadLetters.list() };
  }

  @Get(':name')
  async inspect(@Param('name') name: string, @Query() query: InspectDeadLettersQueryDto) {
    return { messages: await this.deadLetters.inspect(name, query.limit ?? DEFAULT_LIMIT) };
  }

  @Post(':name/replay')
  @HttpCode(202)
  async replay(@Param('name') name: string, @Body() body: ReplayDeadLettersRequestDto) {
    return replayView(await this.deadLetters.replay(name, body?.ids ?? undefined));
  }
}
