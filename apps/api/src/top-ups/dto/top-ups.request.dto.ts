import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsInt, IsObject, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import {
  MAX_PAYMENT_EVENT_ID_LENGTH,
  MAX_PAYMENT_REFERENCE_LENGTH,
  MAX_TOP_UP_CENTS,
  MIN_TOP_UP_CENTS,
  PAYMENT_EVENT_TYPES,
  PAYMENT_TOKEN_PATTERN,
  PaymentEventType,
} from '@app/contracts';

const AMOUNT_RANGE = `amount must be a whole number of cents from ${MIN_TOP_UP_CENTS} to ${MAX_TOP_UP_CENTS}`;

export class CreateTopUpRequestDto {
  @IsInt({ message: AMOUNT_RANGE })
  @Min(MIN_TOP_UP_CENTS, { message: AMOUNT_RANGE })
  @Max(MAX_TOP_UP_CENTS, { message: AMOUNT_RANGE })
  amount: number;
}

export class PaymentEventDataDto {
  // Messages of nested fields are prefixed with their path ("data.amount: ...").
  @IsString({ message: 'must be the paymentReference string that POST /v1/me/top-ups returned' })
  @Length(1, MAX_PAYMENT_REFERENCE_LENGTH, { message: `must be 1 to ${MAX_PAYMENT_REFERENCE_LENGTH} characters` })
  @Matches(PAYMENT_TOKEN_PATTERN, { message: 'must be printable ASCII without spaces' })
  paymentReference: string;

  @IsInt({ message: 'must be a whole number of cents' })
  @Min(0, { message: 'must be a whole number of cents' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'is too large' })
  amount: number;
}

/**
 * The provider's event. Fields beyond these are allowed and ignored (a provider adds fields to its
 * events over time; refusing them would make it retry a delivery that can never pass).
 */
export class PaymentEventDto {
  @IsString({ message: 'id must be the event id, a string' })
  @Length(1, MAX_PAYMENT_EVENT_ID_LENGTH, { message: `id must be 1 to ${MAX_PAYMENT_EVENT_ID_LENGTH} characters` })
  @Matches(PAYMENT_TOKEN_PATTERN, { message: 'id must be printable ASCII without spaces' })
  id: string;

  @IsIn(PAYMENT_EVENT_TYPES, { message: `type must be one of ${PAYMENT_EVENT_TYPES.join(', ')}` })
  type: PaymentEventType;

  @IsDefined({ message: 'data must be an object { "paymentReference", "amount" }' })
  @IsObject({ message: 'data must be an object { "paymentReference", "amount" }' })
  @ValidateNested()
  @Type(() => PaymentEventDataDto)
  data: PaymentEventDataDto;
}
