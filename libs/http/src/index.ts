export * from './bootstrap';
export * from './http-error.filter';
