export * from './bootstrap';
export * from './http-error.filter';
export * from './rate-limit';
