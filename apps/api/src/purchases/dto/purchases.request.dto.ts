import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { MAX_PURCHASE_PAGE, SKU_PATTERN } from '@app/contracts';

/** Longest long poll on one purchase; kept under the api's RPC timeout by the service. */
export const MAX_PURCHASE_WAIT_MS = 20_000;

export class CreatePurchaseRequestDto {
  @IsString()
  @Length(1, 64)
  @Matches(SKU_PATTERN, { message: 'sku must be 1 to 64 characters of A-Z a-z 0-9 . _ -' })
  sku: string;

  @IsInt({ message: 'quantity must be a whole number' })
  @Min(1, { message: 'quantity must be between 1 and 100' })
  @Max(100, { message: 'quantity must be between 1 and 100' })
  quantity: number;
}

export class GetPurchaseQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: `waitMs must be a whole number of milliseconds from 0 to ${MAX_PURCHASE_WAIT_MS}` })
  @Min(0, { message: `waitMs must be a whole number of milliseconds from 0 to ${MAX_PURCHASE_WAIT_MS}` })
  @Max(MAX_PURCHASE_WAIT_MS, { message: `waitMs must be a whole number of milliseconds from 0 to ${MAX_PURCHASE_WAIT_MS}` })
  waitMs?: number;
}

export class ListPurchasesQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: `limit must be a whole number from 1 to ${MAX_PURCHASE_PAGE}` })
  @Min(1, { message: `limit must be a whole number from 1 to ${MAX_PURCHASE_PAGE}` })
  @Max(MAX_PURCHASE_PAGE, { message: `limit must be a whole number from 1 to ${MAX_PURCHASE_PAGE}` })
  limit?: number;

  @IsOptional()
  @IsString()
  @Length(1, 256)
  @Matches(/^[A-Za-z0-9_.-]+$/, { message: 'pageToken is not one this api returned; start again without it' })
  pageToken?: string;
}
