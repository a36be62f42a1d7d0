// Jars of the JVM servers, copied from Maven Central (through ~/.m2) by a pom under infra/<server>.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { homeDir, srcFile } from './paths.mjs';
import { run } from './proc.mjs';

export const libDir = (server) => path.join(homeDir(server), 'lib');

// One Maven at a time: two of them downloading into ~/.m2 at once may corrupt it.
let mavenQueue = Promise.resolve();

/**
 * Makes .infra/<server>/lib hold the runtime dependencies of infra/<server>/pom.xml.
 * A marker holding the pom's hash skips the copy when the folder is already complete.
 * Resolves to true when it had to copy.
 */
export function ensureLibs(server) {
  const pom = srcFile(server, 'pom.xml');
  const dir = libDir(server);
  const marker = path.join(dir, '.complete');
  const hash = createHash('sha256').update(readFileSync(pom)).digest('hex');
  let current = '';
  try {
    current = readFileSync(marker, 'utf8').trim();
  } catch { /* not copied yet */ }
  if (current === hash) return Promise.resolve(false);

  const job = mavenQueue.then(async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await run('mvn', [
      '-B', '-q', '-f', pom,
      'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${dir}`,
    ]);
    writeFileSync(marker, `${hash}\n`);
    return true;
  });
  mavenQueue = job.catch(() => {});
  return job;
}
