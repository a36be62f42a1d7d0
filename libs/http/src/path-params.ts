import { Injectable, PipeTransform } from '@nestjs/common';
import { DomainError, RequestErrorCodes, SKU_WITH_LENGTH_PATTERN } from '@app/contracts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME = SKU_WITH_LENGTH_PATTERN;

/**
 * A path segment checked at the edge, before any service sees it: what cannot be an id of this
 * kind names nothing, so it is a 404 in the contract's words (and never reaches a message contract,
 * whose validation errors name internal classes).
 */
@Injectable()
class PathSegmentPipe implements PipeTransform<unknown, string> {
  constructor(
    private readonly pattern: RegExp,
    private readonly what: string,
    private readonly code: string,
  ) {}

  transform(value: unknown): string {
    if (typeof value === 'string' && this.pattern.test(value)) return value;
    throw new DomainError(this.code, 'not_found', `There is no ${this.what} with that id.`);
  }
}

/** Ids we issue (accounts, purchases) are UUIDs. */
export const UuidPath = (what: string, code: string = RequestErrorCodes.UnknownId) => new PathSegmentPipe(UUID, what, code);

/** Store ids and skus: 1–64 characters of A-Z a-z 0-9 . _ - */
export const NamePath = (what: string, code: string = RequestErrorCodes.UnknownId) => new PathSegmentPipe(NAME, what, code);
