// Jars of the JVM servers, copied from Maven Central (through ~/.m2) by a pom under infra/<server>.
// The first run on a machine downloads them: progress goes to the console every few seconds;
// without network and without them in the local Maven repository, one message says so.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOG_DIR, REPO_ROOT, homeDir, srcFile } from './paths.mjs';
import { findBin, note, run } from './proc.mjs';

export const libDir = (server) => path.join(homeDir(server), 'lib');
export const mavenLog = (server) => path.join(LOG_DIR, `maven-${server}.log`);

/** Bytes a first run fetches into an empty repository, jars, poms and the plugin (measured). */
const EXPECTED_BYTES = { kafka: 77e6, cassandra: 90e6 };
const PROGRESS_EVERY_MS = 5_000;
const CENTRAL = 'https://repo.maven.apache.org/maven2';
// The full coordinate (version from the pom's pluginManagement): with a prefix (`dependency:`)
// an empty repository gives only "No plugin found for prefix".
const GOAL = 'org.apache.maven.plugins:maven-dependency-plugin:copy-dependencies';

// One Maven at a time: two of them downloading into ~/.m2 at once may corrupt it.
let mavenQueue = Promise.resolve();

const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const UNITS = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9 };

/** The local repository Maven uses: MAVEN_OPTS' -Dmaven.repo.local, else ~/.m2/repository. */
function localRepository() {
  const m = /-Dmaven\.repo\.local=(\S+)/.exec(process.env.MAVEN_OPTS ?? '');
  return m ? m[1] : path.join(os.homedir(), '.m2', 'repository');
}

function appendLog(server, text) {
  mkdirSync(LOG_DIR, { recursive: true });
  writeFileSync(mavenLog(server), `${text.trimEnd()}\n`, { flag: 'a' });
}

/** What the failed offline pass said was missing (Maven names the first it met). */
function missingArtifacts(output) {
  const found = new Set();
  for (const m of output.matchAll(/the artifact (\S+) has not been downloaded/g)) found.add(m[1]);
  for (const m of output.matchAll(/artifacts could not be resolved: (.+?): Cannot access/g)) {
    m[1].split(', ').forEach((a) => found.add(a));
  }
  if (found.size === 0) {
    for (const m of output.matchAll(/Plugin (\S+) or one of its dependencies could not be resolved/g)) found.add(m[1]);
  }
  return [...found];
}

const NETWORK_TROUBLE =
  /Could not transfer artifact|Unknown host|Temporary failure in name resolution|Network is unreachable|Connection refused|connect timed out|No route to host|in offline mode/i;

function mavenArgs(pom, dir, { offline }) {
  return ['-B', ...(offline ? ['-o', '-q'] : []), '-f', pom, GOAL, '-DincludeScope=runtime', `-DoutputDirectory=${dir}`];
}

/**
 * Copies the runtime dependencies of `pom` into `dir` (which must exist). From the local Maven
 * repository alone when it holds them; else from Maven Central with a progress line every few
 * seconds. Rejects with one clear message when they are missing and Maven Central is out of reach.
 * Maven's output goes to .infra/logs/maven-<server>.log.
 */
export async function copyDependencies(server, pom, dir) {
  const mvn = findBin('mvn');
  if (!mvn) throw Object.assign(new Error('Maven (mvn) is not installed: apt-get install maven'), { logPath: null });
  appendLog(server, `\n=== ${new Date().toISOString()} mvn ${mavenArgs(pom, dir, { offline: true }).join(' ')}`);

  let offlineOutput;
  try {
    appendLog(server, await run(mvn, mavenArgs(pom, dir, { offline: true })));
    return;
  } catch (err) {
    offlineOutput = err.message;
    appendLog(server, offlineOutput);
  }
  const missing = missingArtifacts(offlineOutput);
  const repo = localRepository();
  const expected = EXPECTED_BYTES[server];
  note(
    server,
    `first run: fetching ${server}'s jars from Maven Central into ${repo}` +
      `${expected ? ` (about ${mb(expected)})` : ''}; Maven's log: ${path.relative(REPO_ROOT, mavenLog(server))}`,
  );

  const started = Date.now();
  let files = 0;
  let bytes = 0;
  let pending = '';
  const onOutput = (chunk) => {
    writeFileSync(mavenLog(server), chunk, { flag: 'a' });
    const lines = (pending + chunk).split('\n');
    pending = lines.pop();
    for (const line of lines) {
      const m = /Downloaded from \S+: \S+ \(([\d.]+) (B|kB|KB|MB|GB) at/.exec(line);
      if (m) {
        files += 1;
        bytes += Number(m[1]) * UNITS[m[2]];
      }
    }
  };
  const progress = setInterval(() => {
    note(
      server,
      `Maven: ${files} files, ${mb(bytes)}${expected ? ` of about ${mb(expected)}` : ''} fetched` + ` (${Math.round((Date.now() - started) / 1000)} s)`,
    );
  }, PROGRESS_EVERY_MS);
  progress.unref();
  try {
    await run(mvn, mavenArgs(pom, dir, { offline: false }), { onOutput });
  } catch (err) {
    if (!NETWORK_TROUBLE.test(err.message)) {
      throw Object.assign(new Error(`mvn could not copy ${server}'s jars (the end of Maven's log follows)`), { logPath: mavenLog(server) });
    }
    const deps = `the runtime dependencies of ${path.relative(REPO_ROOT, pom)}`;
    const what = missing.length > 0 ? `${missing.join(', ')} (the first Maven met; likely more of ${deps})` : deps;
    throw Object.assign(
      new Error(
        [
          `Maven Central (${CENTRAL}) cannot be reached, and the local Maven repository ${repo} lacks ${server}'s jars.`,
          `  Missing: ${what}.`,
          `  The first run needs Maven Central once${expected ? ` (about ${mb(expected)})` : ''}; later runs start from that cache` +
            ` without network. Maven's log: ${path.relative(REPO_ROOT, mavenLog(server))}`,
        ].join('\n'),
      ),
      { logPath: null },
    );
  } finally {
    clearInterval(progress);
  }
  note(server, `Maven: fetched ${files} files, ${mb(bytes)} in ${Math.round((Date.now() - started) / 1000)} s`);
}

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
  } catch {
    /* not copied yet */
  }
  if (current === hash) return Promise.resolve(false);

  const job = mavenQueue.then(async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await copyDependencies(server, pom, dir);
    writeFileSync(marker, `${hash}\n`);
    return true;
  });
  mavenQueue = job.catch(() => {});
  return job;
}
