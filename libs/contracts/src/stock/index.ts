export * from './stock-event.message';
export * from './validate-stock-event';
export * from './stock-errors';
