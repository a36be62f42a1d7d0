import { BaseEnv, Port, WithCassandra, WithRabbitmq } from '@app/config';
import { Transform } from 'class-transformer';
import { IsEmail, IsInt, IsString, Length, Max, Min, NotEquals, ValidateIf } from 'class-validator';

export const DEV_ADMIN_PASSWORD = 'admin-password';

const Int = () => Transform(({ value }) => Number(value));

/** Every setting of the account app; validated once at start (see `.env.example`). */
export class AccountEnv extends WithCassandra(WithRabbitmq(BaseEnv)) {
  @Port()
  ACCOUNT_PORT = 3003;

  /** The admin created (or given the role) at every start. */
  @IsEmail()
  ADMIN_EMAIL = 'admin@example.com';

  @IsString()
  @Length(8, 128)
  @ValidateIf((env: AccountEnv) => env.NODE_ENV === 'production')
  @NotEquals(DEV_ADMIN_PASSWORD, { message: 'ADMIN_PASSWORD must be set to a password of your own in production' })
  ADMIN_PASSWORD = DEV_ADMIN_PASSWORD;

  /** scrypt's cost N (a power of two): memory ≈ 128 × N × 8 bytes per hash. */
  @Int()
  @IsInt()
  @Min(1024)
  @Max(1_048_576)
  PASSWORD_SCRYPT_COST = 16_384;

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
}
