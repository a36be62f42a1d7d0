import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

const LIMIT = 'limit must be an integer from 1 to 500';

/** `GET /v1/ops/dead-letters/{name}?limit=1..500` (default 50). */
export class InspectDeadLettersQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: LIMIT })
  @Min(1, { message: LIMIT })
  @Max(500, { message: LIMIT })
  limit?: number;
}

/** `POST /v1/ops/dead-letters/{name}/replay` `{ ids? }`: the ids GET lists; every message when absent. */
export class ReplayDeadLettersRequestDto {
  @IsOptional()
  @IsArray({ message: 'ids must be an array of message ids (as GET /v1/ops/dead-letters/{name} lists them), or left out to replay every message' })
  @ArrayMinSize(1, { message: 'ids must name at least one message; leave ids out to replay every message' })
  @ArrayMaxSize(500, { message: 'ids may name at most 500 messages at once; leave ids out to replay every message' })
  @IsString({ each: true, message: 'each id must be a string, as GET /v1/ops/dead-letters/{name} lists them' })
  @Length(1, 200, { each: true, message: 'each id must be 1–200 characters, as GET /v1/ops/dead-letters/{name} lists them' })
  ids?: string[];
}
