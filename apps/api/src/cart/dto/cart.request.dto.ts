import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_PRICE_CENTS } from '@app/contracts';
import { MAX_LINE_QUANTITY } from '@app/contracts/shop/inventory-grpc';

const QUANTITY_RULE = `quantity must be a whole number from 1 to ${MAX_LINE_QUANTITY}`;
const TOTAL_RULE = 'expectedTotal must be a whole number of cents, 0 or more (the total GET /v1/me/cart shows)';

export class SetCartLineRequestDto {
  @IsInt({ message: QUANTITY_RULE }) @Min(1, { message: QUANTITY_RULE }) @Max(MAX_LINE_QUANTITY, { message: QUANTITY_RULE }) quantity: number;
}

export class CheckoutRequestDto {
  @IsOptional()
  @IsInt({ message: TOTAL_RULE })
  @Min(0, { message: TOTAL_RULE })
  @Max(MAX_PRICE_CENTS * 50 * MAX_LINE_QUANTITY, { message: TOTAL_RULE })
  expectedTotal?: number;
}
