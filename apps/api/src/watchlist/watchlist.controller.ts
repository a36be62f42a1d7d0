import { Body, Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import { Auth, AuthUser, CurrentUser } from '../auth';
import { SkuParamDto, WatchSkuRequestDto } from './dto/watch-sku.request.dto';
import { WatchlistService } from './watchlist.service';

@Controller('v1/me/watchlist')
@Auth()
export class WatchlistController {
  constructor(private readonly watchlist: WatchlistService) {}

  @Post()
  @HttpCode(204)
  watch(@CurrentUser() user: AuthUser, @Body() body: WatchSkuRequestDto): Promise<void> {
    return this.watchlist.watch(user, body.sku);
  }

  @Delete(':sku')
  @HttpCode(204)
  unwatch(@CurrentUser() user: AuthUser, @Param() params: SkuParamDto): Promise<void> {
    return this.watchlist.unwatch(user, params.sku);
  }
}
