import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { Auth } from '../auth';
import { CatalogService } from './catalog.service';
import { ChangePriceRequestDto, CreateItemRequestDto, ListItemsQueryDto, RestockItemRequestDto } from './dto/catalog.request.dto';
import { toItemResponse } from './item.mapper';

/** Public catalog reads (API.md "Catalog"). */
@Controller('v1/items')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get()
  async list(@Query() query: ListItemsQueryDto) {
    const page = await this.catalog.list(query);
    return { items: page.items.map(toItemResponse), nextPageToken: page.nextPageToken };
  }

  @Get(':sku')
  async one(@Param('sku') sku: string) {
    return toItemResponse(await this.catalog.get(sku));
  }
}

/** Admin catalog writes; shop owns the items. */
@Controller('v1/admin/items')
@Auth('admin')
export class AdminItemsController {
  constructor(private readonly catalog: CatalogService) {}

  @Post()
  async create(@Body() body: CreateItemRequestDto) {
    return toItemResponse(await this.catalog.create(body));
  }

  @Post(':sku/restock')
  @HttpCode(200)
  async restock(@Param('sku') sku: string, @Body() body: RestockItemRequestDto) {
    return toItemResponse(await this.catalog.restock(sku, body));
  }

  @Patch(':sku/price')
  @HttpCode(202)
  changePrice(@Param('sku') sku: string, @Body() body: ChangePriceRequestDto) {
    return this.catalog.changePrice(sku, body);
  }
}
