import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

/**
 * Queue names of the request/reply operations of the account app (their contracts: `AccountRpc` in topology.ts).
 * Errors come back as DomainErrors with the codes in `AccountErrorCodes`.
 */
export const AccountRpcQueues = {
  /** RegisterRequest → AccountView; ACCOUNT.EMAIL_EXISTS (conflict), ACCOUNT.INVALID_EMAIL (invalid). */
  Register: 'account.rpc.register',
  /** LoginRequest → Credentials; AUTH.BAD_CREDENTIALS (unauthenticated). */
  Login: 'account.rpc.login',
  /** UserRequest → Credentials; ACCOUNT.NOT_FOUND. What the api checks a token against. */
  GetCredentials: 'account.rpc.get-credentials',
  /** UserRequest → AccountView; ACCOUNT.NOT_FOUND. */
  GetAccount: 'account.rpc.get-account',
  /** ChangePasswordRequest → Credentials (the new version); AUTH.BAD_CREDENTIALS. */
  ChangePassword: 'account.rpc.change-password',
  /** CreditRequest → BalanceView; ACCOUNT.NOT_FOUND. Idempotent per creditId. */
  Credit: 'account.rpc.credit',
  /** PlacePurchaseRequest → PurchaseView (PENDING); idempotent per purchaseId. */
  PlacePurchase: 'account.rpc.place-purchase',
  /** GetPurchaseRequest → PurchaseView; PURCHASE.NOT_FOUND (also for another user's). */
  GetPurchase: 'account.rpc.get-purchase',
  /**
   * The long poll (GetPurchaseRequest with waitMs): its own queue, whose deliveries are held while
   * they wait, so waiting clients never delay plain reads on GetPurchase.
   */
  WaitPurchase: 'account.rpc.wait-purchase',
  /** ListPurchasesRequest → PurchasePage, newest first; PURCHASE.INVALID_PAGE_TOKEN. */
  ListPurchases: 'account.rpc.list-purchases',
  /** PurchaseOutcomesRequest → PurchaseOutcomes: how many purchases ended in each terminal status (for operators). */
  PurchaseOutcomes: 'account.rpc.purchase-outcomes',
  /** CreateTopUpRequest → TopUpView (PENDING, with its paymentReference); idempotent per topUpId. */
  CreateTopUp: 'account.rpc.create-top-up',
  /** GetTopUpRequest → TopUpView; TOP_UP.NOT_FOUND (also for another user's). */
  GetTopUp: 'account.rpc.get-top-up',
  /**
   * ApplyPaymentEventRequest → PaymentEventOutcome, answered once the effect is durable; idempotent per
   * eventId and credited once per top-up. TOP_UP.UNKNOWN_PAYMENT_REFERENCE, TOP_UP.AMOUNT_MISMATCH (invalid).
   */
  ApplyPaymentEvent: 'account.rpc.apply-payment-event',
  /** TopUpCountsRequest → TopUpCounts: how many top-ups are in each status (for operators). */
  TopUpCounts: 'account.rpc.top-up-counts',
} as const;

export const AccountErrorCodes = {
  EmailExists: 'ACCOUNT.EMAIL_EXISTS',
  InvalidEmail: 'ACCOUNT.INVALID_EMAIL',
  NotFound: 'ACCOUNT.NOT_FOUND',
  BadCredentials: 'AUTH.BAD_CREDENTIALS',
  PurchaseNotFound: 'PURCHASE.NOT_FOUND',
  InvalidPageToken: 'PURCHASE.INVALID_PAGE_TOKEN',
  BalanceOverflow: 'ACCOUNT.BALANCE_TOO_LARGE',
  ConcurrentChange: 'ACCOUNT.CONCURRENT_CHANGE',
  AdminPasswordMismatch: 'ACCOUNT.ADMIN_PASSWORD_MISMATCH',
  LedgerContended: 'LEDGER.CONTENDED',
  DuplicateLine: 'PURCHASE.DUPLICATE_LINE',
} as const;

/** account → every api instance (routing key on `Exchanges.Commerce`): tokens older than `credentialsVersion` are void. */
export const CREDENTIALS_CHANGED_ROUTING_KEY = 'api.credentials-changed';

export const MAX_CREDIT_CENTS = 1_000_000_000_000;
export const MAX_PURCHASE_PAGE = 100;
export const PURCHASE_STATUSES = ['PENDING', 'COMPLETED', 'REJECTED', 'CANCELLED'] as const;
export type PurchaseStatus = (typeof PURCHASE_STATUSES)[number];

export class RegisterRequest {
  @IsEmail() @Length(3, 254) email: string;
  @IsString() @Length(8, 128) password: string;
  @IsString() @Length(1, 200) name: string;
}

export class LoginRequest {
  @IsString() @Length(1, 254) email: string;
  @IsString() @Length(1, 128) password: string;
}

export class UserRequest {
  @IsString() @Length(1, 64) userId: string;
}

export class ChangePasswordRequest {
  @IsString() @Length(1, 64) userId: string;
  @IsString() @Length(1, 128) currentPassword: string;
  @IsString() @Length(8, 128) newPassword: string;
}

export class CreditRequest {
  @IsString() @Length(1, 64) userId: string;
  @Type(() => Number) @IsInt() @Min(1) @Max(MAX_CREDIT_CENTS) amount: number;
  @IsString() @Length(1, 64) creditId: string;
}

/** A purchase holds at most this many lines (a cart's limit). */
export const MAX_PURCHASE_LINES = 50;

/** One line of a cart purchase, at the price the shop confirmed when the cart was checked out. */
export class PurchaseLineRequest {
  @IsString() @Length(1, 64) sku: string;
  @Type(() => Number) @IsInt() @Min(1) @Max(100) quantity: number;
  @Type(() => Number) @IsInt() @Min(0) unitPrice: number;
}

/** A single-item purchase (`sku`, `quantity`, `unitPrice`) or a cart purchase (`lines`, each sku once). */
export class PlacePurchaseRequest {
  @IsUUID() purchaseId: string;
  @IsString() @Length(1, 64) userId: string;
  @ValidateIf((r: PlacePurchaseRequest) => r.lines === undefined) @IsString() @Length(1, 64) sku?: string;
  @ValidateIf((r: PlacePurchaseRequest) => r.lines === undefined) @Type(() => Number) @IsInt() @Min(1) @Max(100) quantity?: number;
  /** The catalog's price when the purchase was accepted; absent when the catalog does not know the sku. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) unitPrice?: number;
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PURCHASE_LINES)
  @ValidateNested({ each: true })
  @Type(() => PurchaseLineRequest)
  lines?: PurchaseLineRequest[];
}

export class GetPurchaseRequest {
  @IsString() @Length(1, 64) userId: string;
  @IsString() @Length(1, 64) purchaseId: string;
  /** Long poll: while the purchase is PENDING, answer when it reaches a terminal status or after this long. */
  @IsOptional() @IsInt() @Min(0) @Max(60_000) waitMs?: number;
}

export class ListPurchasesRequest {
  @IsString() @Length(1, 64) userId: string;
  @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PURCHASE_PAGE) limit: number;
  @IsOptional() @IsString() @Length(1, 256) @Matches(/^[A-Za-z0-9_.-]+$/) pageToken?: string;
}

export class CredentialsChanged {
  @IsString() @Length(1, 64) userId: string;
  @IsInt() @Min(0) credentialsVersion: number;
}

// Replies: checked by the caller when they arrive, so a service that drifts from its contract is caught at the call.

export class AccountView {
  @IsString() @Length(1, 64) id: string;
  @IsString() @Length(1, 254) email: string;
  @IsString() @Length(1, 200) name: string;
  @IsInt() @Min(0) balance: number;
  @IsArray() @IsString({ each: true }) roles: string[];
}

export class Credentials {
  @IsString() @Length(1, 64) id: string;
  @IsString() @Length(1, 254) email: string;
  @IsArray() @IsString({ each: true }) roles: string[];
  /** Grows by one per password change; a token carrying an older one is void. */
  @IsInt() @Min(0) credentialsVersion: number;
}

export class BalanceView {
  @IsString() @Length(1, 64) id: string;
  @IsInt() @Min(0) balance: number;
}

/** One line of a purchase as its buyer sees it; `amount` = unitPrice × quantity. */
export class PurchaseLineView {
  @IsString() @Length(1, 64) sku: string;
  @IsInt() @Min(1) quantity: number;
  @IsInt() @Min(0) unitPrice: number;
  @IsInt() @Min(0) amount: number;
}

/** `sku` and `quantity`: the single line's, or for a cart purchase the first line's sku and all units; `amount` = Σ lines. */
export class PurchaseView {
  @IsString() @Length(1, 64) purchaseId: string;
  @IsString() @Length(1, 64) sku: string;
  @IsInt() @Min(1) quantity: number;
  @IsInt() @Min(0) amount: number;
  @IsArray() @ValidateNested({ each: true }) @Type(() => PurchaseLineView) lines: PurchaseLineView[];
  @IsIn(PURCHASE_STATUSES) status: PurchaseStatus;
  @IsOptional() @IsString() reason?: string;
  @IsISO8601() createdAt: string;
  @IsISO8601() updatedAt: string;
}

/** Asks for the counts of every terminal status; nothing to say. */
export class PurchaseOutcomesRequest {}

/**
 * Purchases that ended in each terminal status since the system was first started, counted by the
 * account instance whose write moved each one there (a crash between that write and the count loses
 * one, never adds one).
 */
export class OutcomeCounts {
  @IsInt() @Min(0) COMPLETED: number;
  @IsInt() @Min(0) REJECTED: number;
  @IsInt() @Min(0) CANCELLED: number;
}

export class PurchaseOutcomes extends OutcomeCounts {
  /** Of those, the purchases of several lines (checked-out carts). */
  @ValidateNested() @Type(() => OutcomeCounts) cart: OutcomeCounts;
}

export class PurchasePage {
  @IsArray() @ValidateNested({ each: true }) @Type(() => PurchaseView) items: PurchaseView[];
  @IsOptional() @IsString() nextPageToken: string | null;
}
