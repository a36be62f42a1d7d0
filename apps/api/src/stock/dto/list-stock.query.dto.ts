import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class ListStockQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer from 1 to 1000' })
  @Min(1, { message: 'limit must be an integer from 1 to 1000' })
  @Max(1000, { message: 'limit must be an integer from 1 to 1000' })
  limit?: number;

  @IsOptional()
  @IsString()
  @MaxLength(2048)
  pageToken?: string;

  /** Keeps levels strictly below this number. */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'below must be an integer' })
  below?: number;
}
