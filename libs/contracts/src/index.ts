export * from './domain-error';
export * from './names';
export * from './validate-message';
export * from './purchase/purchase-saga.messages';
export * from './catalog/price-changed.event';
export * from './mail/send-mail.command';
