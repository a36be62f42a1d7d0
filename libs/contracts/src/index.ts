export * from './domain-error';
export * from './names';
export * from './validate-message';
