import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { UuidPath } from '@app/http';
import { TopUpErrorCodes } from '@app/contracts';
import { Auth, AuthUser, CurrentUser } from '../auth';
import { CreateTopUpRequestDto } from './dto/top-ups.request.dto';
import { TopUpsService } from './top-ups.service';

/** The user's top-ups: an intent to pay at the provider, and its status once the provider said. */
@Controller('v1/me/top-ups')
@Auth()
export class TopUpsController {
  constructor(private readonly topUps: TopUpsService) {}

  @Post()
  @HttpCode(201)
  create(@CurrentUser() user: AuthUser, @Body() body: CreateTopUpRequestDto) {
    return this.topUps.create(user.id, body.amount);
  }

  @Get(':topUpId')
  get(@CurrentUser() user: AuthUser, @Param('topUpId', UuidPath('top-up', TopUpErrorCodes.NotFound)) topUpId: string) {
    return this.topUps.get(user.id, topUpId);
  }
}
