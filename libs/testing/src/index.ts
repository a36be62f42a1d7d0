export * from './apps';
export * from './infra';
export * from './wait';
