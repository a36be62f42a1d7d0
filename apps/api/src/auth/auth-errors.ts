/** Error codes of the api's authentication (account's own, such as AUTH.BAD_CREDENTIALS, are in `AccountErrorCodes`). */
export const AuthErrorCodes = {
  MissingToken: 'AUTH.MISSING_TOKEN',
  InvalidToken: 'AUTH.INVALID_TOKEN',
  TokenExpired: 'AUTH.TOKEN_EXPIRED',
  TokenRevoked: 'AUTH.TOKEN_REVOKED',
  UnknownUser: 'AUTH.UNKNOWN_USER',
  Forbidden: 'AUTH.FORBIDDEN',
} as const;
