import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsString, Length, ValidateNested } from 'class-validator';
import { PurchaseView } from '../account/account-rpc';

/** Routing key on `Exchanges.Commerce` of {@link PurchaseStatusChanged}. */
export const PurchaseStatusChangedRoutingKey = 'purchase.status-changed';

/**
 * account → every api instance (each binds its own exclusive queue): a purchase's status changed,
 * durably (published after the compare-and-set that moved it). `purchase` is the purchase as
 * `GET /v1/purchases/{id}` shows it from then on. A notification, not the source of truth: one
 * lost (a broker restart, an api instance that subscribed late) is made up for by the api reading
 * the purchase again over RPC.
 */
export class PurchaseStatusChanged {
  /** The buyer: the api hands the change only to that user's streams. */
  @IsString() @Length(1, 64) userId: string;
  @ValidateNested() @Type(() => PurchaseView) purchase: PurchaseView;
}
