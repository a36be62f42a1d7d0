/** Error codes of the stock context (ingest's uploads, the api's stock reads). */
export const StockErrorCodes = {
  NotFound: 'STOCK.NOT_FOUND',
  BadPageToken: 'STOCK.BAD_PAGE_TOKEN',
  ReadUnavailable: 'STOCK.READ_UNAVAILABLE',
  ApiKeyMissing: 'STOCK.API_KEY_MISSING',
  ApiKeyUnknown: 'STOCK.API_KEY_UNKNOWN',
  WrongStore: 'STOCK.WRONG_STORE',
  UnsupportedContentType: 'STOCK.UNSUPPORTED_CONTENT_TYPE',
  KafkaUnavailable: 'STOCK.KAFKA_UNAVAILABLE',
  BodyTooLarge: 'STOCK.BODY_TOO_LARGE',
  BadCsvHeader: 'STOCK.BAD_CSV_HEADER',
  EmptyBody: 'STOCK.EMPTY_BODY',
  BadJsonBody: 'STOCK.BAD_JSON_BODY',
} as const;
