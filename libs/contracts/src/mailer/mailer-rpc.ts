import { IsEmail, IsOptional, IsString, Length, Matches } from 'class-validator';

/**
 * Request/reply operations of the mailer app (RabbitMQ RPC via `RabbitRpcClient.request`).
 * The watchlist lives in the mailer's keyspace because the mailer is the only reader: it mails
 * the watchers of a sku when its price goes down.
 */
export const MailerRpcQueues = {
  /** WatchSkuRequest → WatchlistChanged; idempotent (watching twice is watching). */
  Watch: 'mailer.rpc.watch',
  /** UnwatchSkuRequest → WatchlistChanged; idempotent (unwatching what is not watched is fine). */
  Unwatch: 'mailer.rpc.unwatch',
} as const;

const SKU = /^[A-Za-z0-9._-]+$/;

export class WatchSkuRequest {
  @IsString() @Length(1, 64) userId: string;
  @IsEmail() email: string;
  @IsOptional() @IsString() @Length(1, 200) name?: string;
  @IsString() @Length(1, 64) @Matches(SKU) sku: string;
}

export class UnwatchSkuRequest {
  @IsString() @Length(1, 64) userId: string;
  @IsString() @Length(1, 64) @Matches(SKU) sku: string;
}

export class WatchlistChanged {
  sku: string;
  watching: boolean;
}
