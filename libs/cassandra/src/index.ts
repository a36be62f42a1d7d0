export * from './cassandra.module';
export * from './migrations';
