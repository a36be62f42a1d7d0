import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The shape the apps keep (docs/transport-plan.md): they talk to the brokers only through the
 * transporters of libs/messaging, and declare no topology by hand (it lives in libs/contracts).
 */
const ROOT = join(__dirname, '../..');
const APPS = join(ROOT, 'apps');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

const appSources = readdirSync(APPS).flatMap((app) => sourceFiles(join(APPS, app, 'src')));

describe('the apps’ architecture', () => {
  it('has app sources to check', () => {
    expect(appSources.length).toBeGreaterThan(50);
  });

  it('imports no broker client under apps/*/src (they go through libs/messaging)', () => {
    const offenders = appSources.filter((file) => /from '(kafkajs|amqplib|amqp-connection-manager)'/.test(readFileSync(file, 'utf8')));
    expect(offenders.map((file) => relative(ROOT, file))).toEqual([]);
  });

  it('declares no queue, exchange or binding by hand (the topology is in libs/contracts)', () => {
    const offenders = appSources.filter((file) => /\b(assertQueue|assertExchange|bindQueue|createChannel|createTopics)\(/.test(readFileSync(file, 'utf8')));
    expect(offenders.map((file) => relative(ROOT, file))).toEqual([]);
  });

  it('consumes only in decorated controller methods, never by registering consumers at start', () => {
    const offenders = appSources.filter((file) => /\.consume\(|KafkaBatchConsumer|RabbitConsumers/.test(readFileSync(file, 'utf8')));
    expect(offenders.map((file) => relative(ROOT, file))).toEqual([]);
  });
});
