import { Transform } from 'class-transformer';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { IsPlainEmailAddress, MAX_CREDIT_CENTS } from '@app/contracts';

const trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

export class CreateAccountRequestDto {
  @trim() @IsPlainEmailAddress() email: string;
  @IsString() @Length(8, 128, { message: 'password must be 8 to 128 characters long' }) password: string;
  @trim() @IsString() @Length(1, 200, { message: 'name must be 1 to 200 characters long' }) name: string;
}

export class LoginRequestDto {
  @trim() @IsString() @Length(1, 254) email: string;
  @IsString() @Length(1, 128) password: string;
}

export class ChangePasswordRequestDto {
  @IsString() @Length(1, 128) currentPassword: string;
  @IsString() @Length(8, 128, { message: 'newPassword must be 8 to 128 characters long' }) newPassword: string;
}

export class CreditRequestDto {
  @IsInt({ message: 'amount must be a whole number of cents' })
  @Min(1, { message: 'amount must be greater than 0' })
  @Max(MAX_CREDIT_CENTS)
  amount: number;
}
