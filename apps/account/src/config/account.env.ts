import { BaseEnv, Port, WithCassandra, WithRabbitmq } from '@app/config';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsString, Length, Max, Min, MinLength, NotEquals, ValidateBy, ValidateIf } from 'class-validator';
import { IsPlainEmailAddress, isPlainEmailAddress } from '@app/contracts';

export const DEV_ADMIN_PASSWORD = 'admin-password';
/** Only for development and tests: production refuses to start with it. */
export const DEV_PURCHASE_PAGE_TOKEN_SECRET = 'dev-only-purchase-page-token-secret';

const Int = () => Transform(({ value }) => Number(value));

const POWERS_OF_TWO = Array.from({ length: 11 }, (_, i) => 2 ** (10 + i));

function emailList(value: string): string[] {
  return value === '' ? [] : value.split(',').map((email) => email.trim());
}

const IsEmailList = () =>
  ValidateBy({
    name: 'isEmailList',
    validator: {
      validate: (value) => typeof value === 'string' && emailList(value).every(isPlainEmailAddress),
      defaultMessage: (args) => `${args?.property} must be a comma-separated list of e-mail addresses like ops@example.com,oncall@example.com`,
    },
  });

/** Every setting of the account app; validated once at start (see `.env.example`). */
export class AccountEnv extends WithCassandra(WithRabbitmq(BaseEnv)) {
  @Port()
  ACCOUNT_PORT = 3003;

  /** The admin created (or given the role) at every start. */
  @IsPlainEmailAddress()
  ADMIN_EMAIL = 'admin@example.com';

  @IsString()
  @Length(8, 128)
  @ValidateIf((env: AccountEnv) => env.NODE_ENV === 'production')
  @NotEquals(DEV_ADMIN_PASSWORD, { message: 'ADMIN_PASSWORD must be set to a password of your own in production' })
  ADMIN_PASSWORD = DEV_ADMIN_PASSWORD;

  /** Signs the opaque page tokens of a user's purchase list, so a tampered token is refused. */
  @IsString()
  @MinLength(16)
  @ValidateIf((env: AccountEnv) => env.NODE_ENV === 'production')
  @NotEquals(DEV_PURCHASE_PAGE_TOKEN_SECRET, { message: 'PURCHASE_PAGE_TOKEN_SECRET must be set to a secret of your own in production' })
  PURCHASE_PAGE_TOKEN_SECRET = DEV_PURCHASE_PAGE_TOKEN_SECRET;

  /** Existing accounts given the `ops` role at every start; an address without an account is skipped. */
  @IsEmailList()
  OPS_EMAILS = '';

  /** scrypt's cost N (a power of two): memory ≈ 128 × N × 8 bytes per hash. */
  @Int()
  @IsIn(POWERS_OF_TWO, { message: 'PASSWORD_SCRYPT_COST must be a power of two from 1024 to 1048576' })
  PASSWORD_SCRYPT_COST = 16_384;

  /** scrypt's parallelism p: time per hash grows with it, memory does not (OWASP: N=2^14 wants p=5). */
  @Int()
  @IsInt()
  @Min(1)
  @Max(16)
  PASSWORD_SCRYPT_PARALLELISM = 5;

  /** No answer from shop within this long: ReserveStock is sent again (then with doubling delays). */
  @Int()
  @IsInt()
  @Min(100)
  @Max(600_000)
  PURCHASE_RETRY_AFTER_MS = 3_000;

  /** No answer from shop within this long after the first ReserveStock: the purchase is voided. */
  @Int()
  @IsInt()
  @Min(1_000)
  @Max(3_600_000)
  PURCHASE_VOID_AFTER_MS = 30_000;

  /** How often the sweeper looks for purchases whose deadline passed. */
  @Int()
  @IsInt()
  @Min(50)
  @Max(60_000)
  PURCHASE_SWEEP_INTERVAL_MS = 1_000;

  get opsEmails(): string[] {
    return emailList(this.OPS_EMAILS);
  }
}
