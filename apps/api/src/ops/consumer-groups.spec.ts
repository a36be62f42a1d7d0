import 'reflect-metadata';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConsumerGroupContracts, ConsumerGroups, TopicContracts } from '@app/contracts';

/**
 * The operators' view reads the lag of the groups in `ConsumerGroupContracts`; this keeps that
 * table equal to what the apps' `@KafkaBatch(TopicContracts.X, { group: ConsumerGroups.Y })`
 * handlers declare, so a new consumer cannot be missing from /v1/ops/health.
 */
const ROOT = join(__dirname, '../../../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('ConsumerGroupContracts', () => {
  const declared = readdirSync(join(ROOT, 'apps')).flatMap((app) =>
    sources(join(ROOT, 'apps', app, 'src')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/@KafkaBatch\(\s*([^,]+?)\s*,\s*\{\s*group:\s*([^}]+?)\s*\}/g)].map((m) => ({
        file: relative(ROOT, file),
        topic: m[1],
        group: m[2],
      })),
    ),
  );

  it('lists exactly the groups and topics the apps consume with @KafkaBatch', () => {
    expect(declared.length).toBeGreaterThan(0);
    const resolve = (expression: string, table: Record<string, unknown>, prefix: string) => {
      const match = new RegExp(`^${prefix}\\.(\\w+)$`).exec(expression);
      if (!match || !(match[1] in table)) throw new Error(`${expression}: write it as ${prefix}.<name>, so ops can list it`);
      return table[match[1]];
    };
    const fromApps = declared.map((d) => {
      const topic = resolve(d.topic, TopicContracts, 'TopicContracts') as { topic: string };
      const group = resolve(d.group, ConsumerGroups, 'ConsumerGroups') as string;
      return `${group} ← ${topic.topic}`;
    });
    const listed = ConsumerGroupContracts.map((c) => `${c.group} ← ${c.topic.topic}`);
    expect([...new Set(fromApps)].sort()).toEqual([...listed].sort());
  });
});
