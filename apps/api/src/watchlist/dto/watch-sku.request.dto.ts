import { IsString, Length, Matches } from 'class-validator';
import { SKU_PATTERN } from '@app/contracts';
const SKU_RULE = 'sku must be 1–64 characters of A-Z a-z 0-9 . _ -';

export class WatchSkuRequestDto {
  @IsString({ message: SKU_RULE }) @Length(1, 64, { message: SKU_RULE }) @Matches(SKU_PATTERN, { message: SKU_RULE }) sku: string;
}

export class SkuParamDto {
  @IsString({ message: SKU_RULE }) @Length(1, 64, { message: SKU_RULE }) @Matches(SKU_PATTERN, { message: SKU_RULE }) sku: string;
}
