import { SKU_PATTERN } from '../sku';
import { IsBoolean, IsEmail, IsOptional, IsString, Length, Matches } from 'class-validator';

/**
 * Queue names of the request/reply operations of the mailer app (their contracts: `MailerRpc` in topology.ts).
 * The watchlist lives in the mailer's keyspace because the mailer is the only reader: it mails
 * the watchers of a sku when its price goes down.
 */
export const MailerRpcQueues = {
  /** WatchSkuRequest → WatchlistChanged; idempotent (watching twice is watching). */
  Watch: 'mailer.rpc.watch',
  /** UnwatchSkuRequest → WatchlistChanged; idempotent (unwatching what is not watched is fine). */
  Unwatch: 'mailer.rpc.unwatch',
} as const;

export class WatchSkuRequest {
  @IsString() @Length(1, 64) userId: string;
  @IsEmail() email: string;
  @IsOptional() @IsString() @Length(1, 200) name?: string;
  @IsString() @Length(1, 64) @Matches(SKU_PATTERN) sku: string;
}

export class UnwatchSkuRequest {
  @IsString() @Length(1, 64) userId: string;
  @IsString() @Length(1, 64) @Matches(SKU_PATTERN) sku: string;
}

export class WatchlistChanged {
  @IsString() @Length(1, 64) sku: string;
  @IsBoolean() watching: boolean;
}
