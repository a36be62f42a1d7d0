/** What a sku (and a store id) is made of, in one place: 1 to 64 of A-Z a-z 0-9 . _ - */
const SKU_CHARS = 'A-Za-z0-9._-';
export const SKU_MAX_LENGTH = 64;

/** The characters only, for class-validator `@Matches` beside `@Length(1, SKU_MAX_LENGTH)`. */
export const SKU_PATTERN = new RegExp(`^[${SKU_CHARS}]+$`);
/** Characters and length in one check, where no `@Length` stands beside it. */
export const SKU_WITH_LENGTH_PATTERN = new RegExp(`^[${SKU_CHARS}]{1,${SKU_MAX_LENGTH}}$`);
