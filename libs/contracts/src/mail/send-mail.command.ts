import { IsEmail, IsIn, IsObject, IsOptional, IsString, Length } from 'class-validator';

export const MAIL_KINDS = ['welcome', 'purchase-completed', 'purchase-cancelled', 'price-drop'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

/**
 * A request to mail one person, sent to the `mail.send` queue. The AMQP messageId is the
 * idempotency key: senders derive it from what the mail is about (`purchase-completed:<purchaseId>`,
 * `price-drop:<sku>:<version>:<userId>`), so a resent request is never mailed twice.
 *
 * `data` per kind — welcome: { name }; purchase-completed: { name, purchaseId, sku, quantity, amount };
 * purchase-cancelled: { name, purchaseId, sku, quantity, amount, reason };
 * price-drop: { name, sku, itemName, oldPrice, newPrice }. Amounts and prices in cents.
 */
export class SendMail {
  @IsEmail() to: string;
  @IsIn(MAIL_KINDS) kind: MailKind;
  @IsObject() data: Record<string, unknown>;
  @IsOptional() @IsString() @Length(1, 200) name?: string;
}
