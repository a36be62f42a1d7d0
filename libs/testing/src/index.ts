export * from './apps';
export * from './hostile';
export * from './infra';
export * from './stock-pipeline';
export * from './tcp-proxy';
export * from './wait';
