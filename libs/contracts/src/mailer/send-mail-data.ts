import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, Length, Min, ValidateNested } from 'class-validator';
import type { MailKind } from '../mail/send-mail.command';

/*
 * The `data` of a `SendMail`, one class per kind: producers can check what they send and the
 * mailer dead-letters a request whose data does not fit its kind. `name` (the recipient's
 * display name) is optional everywhere: a mail without it greets the address instead.
 */

export class WelcomeMailData {
  @IsOptional() @IsString() @Length(1, 200) name?: string;
}

/** One line of a purchase in its mail. */
export class PurchaseMailLine {
  @IsString() @Length(1, 64) sku: string;
  @IsInt() @Min(1) quantity: number;
  /** Cents. */
  @IsInt() @Min(0) amount: number;
}

export class PurchaseCompletedMailData {
  @IsOptional() @IsString() @Length(1, 200) name?: string;
  @IsString() @Length(1, 64) purchaseId: string;
  @IsString() @Length(1, 64) sku: string;
  @IsInt() @Min(1) quantity: number;
  /** Cents. */
  @IsInt() @Min(0) amount: number;
  /** Every line of the purchase (absent in mails of single-item purchases requested before lines existed). */
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => PurchaseMailLine) lines?: PurchaseMailLine[];
}

export class PurchaseCancelledMailData extends PurchaseCompletedMailData {
  @IsString() @Length(1, 500) reason: string;
}

export class PriceDropMailData {
  @IsOptional() @IsString() @Length(1, 200) name?: string;
  @IsString() @Length(1, 64) sku: string;
  @IsString() @Length(1, 200) itemName: string;
  /** Cents. */
  @IsInt() @Min(0) oldPrice: number;
  /** Cents. */
  @IsInt() @Min(0) newPrice: number;
}

export const MAIL_DATA_CONTRACTS: Record<MailKind, new () => object> = {
  welcome: WelcomeMailData,
  'purchase-completed': PurchaseCompletedMailData,
  'purchase-cancelled': PurchaseCancelledMailData,
  'price-drop': PriceDropMailData,
};

/** The message id (idempotency key) of the price-drop mail of one watcher for one price version. */
export function priceDropMailId(sku: string, version: number, userId: string): string {
  return `price-drop:${sku}:${version}:${userId}`;
}
