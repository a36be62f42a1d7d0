export * from './bootstrap';
export * from './http-error.filter';
export * from './rate-limit';
export * from './json-shape';
export * from './redis';
export * from './path-params';
