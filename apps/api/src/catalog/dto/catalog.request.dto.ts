import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { MAX_ITEM_QUANTITY, MAX_ITEMS_PAGE, MAX_PRICE_CENTS, SKU_PATTERN } from '@app/contracts';

const SKU_MESSAGE = 'sku must be 1 to 64 characters of A-Z a-z 0-9 . _ -';

export class CreateItemRequestDto {
  @IsString() @Length(1, 64, { message: SKU_MESSAGE }) @Matches(SKU_PATTERN, { message: SKU_MESSAGE }) sku: string;
  @IsString() @Length(1, 200, { message: 'name must be 1 to 200 characters long' }) name: string;
  @IsInt({ message: 'price must be a whole number of cents' })
  @Min(0, { message: 'price must be at least 0' })
  @Max(MAX_PRICE_CENTS)
  price: number;
  @IsInt({ message: 'quantity must be a whole number' })
  @Min(0, { message: 'quantity must be at least 0' })
  @Max(MAX_ITEM_QUANTITY)
  quantity: number;
}

export class RestockItemRequestDto {
  @IsInt({ message: 'quantity must be a whole number' })
  @Min(1, { message: 'quantity must be greater than 0' })
  @Max(MAX_ITEM_QUANTITY)
  quantity: number;
}

export class ChangePriceRequestDto {
  @IsInt({ message: 'price must be a whole number of cents' })
  @Min(0, { message: 'price must be at least 0' })
  @Max(MAX_PRICE_CENTS)
  price: number;
}

export class ListItemsQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: `limit must be a whole number from 1 to ${MAX_ITEMS_PAGE}` })
  @Min(1, { message: `limit must be a whole number from 1 to ${MAX_ITEMS_PAGE}` })
  @Max(MAX_ITEMS_PAGE, { message: `limit must be a whole number from 1 to ${MAX_ITEMS_PAGE}` })
  limit?: number;

  @IsOptional() @IsString() @Length(1, 512, { message: 'pageToken must be the nextPageToken of a previous page' }) pageToken?: string;
}
