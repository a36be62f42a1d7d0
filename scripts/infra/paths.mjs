// Where the local infrastructure keeps its sources (infra/) and its state (.infra/).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HOST = '127.0.0.1';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const INFRA_SRC = path.join(REPO_ROOT, 'infra');

// Everything generated lives under .infra/ (git-ignored): `reset` wipes only DATA_DIR.
export const STATE_DIR = path.join(REPO_ROOT, '.infra');
export const DATA_DIR = path.join(STATE_DIR, 'data');
export const LOG_DIR = path.join(STATE_DIR, 'logs');
export const RUN_DIR = path.join(STATE_DIR, 'run');

export const srcFile = (server, file) => path.join(INFRA_SRC, server, file);
export const dataDir = (server) => path.join(DATA_DIR, server);
export const logFile = (server) => path.join(LOG_DIR, `${server}.log`);
export const pidFile = (server) => path.join(RUN_DIR, `${server}.pid`);
export const stateFile = (server) => path.join(RUN_DIR, `${server}.json`);
/** Per-server folder for copied jars and generated configs; survives `reset`. */
export const homeDir = (server) => path.join(STATE_DIR, server);

/**
 * The JDK that runs Kafka and Cassandra. JAVA_HOME is deliberately not used: on these
 * machines it may point at a JDK too new for Cassandra 5.0 (no Security Manager after 23).
 */
export function javaBin() {
  if (process.env.INFRA_JAVA_HOME) return path.join(process.env.INFRA_JAVA_HOME, 'bin', 'java');
  const jvmRoot = '/usr/lib/jvm';
  const jdk17 = existsSync(jvmRoot)
    ? readdirSync(jvmRoot)
        .filter((d) => /^java-17-openjdk-/.test(d))
        .sort()[0]
    : undefined;
  if (!jdk17) {
    throw new Error('No JDK 17 under /usr/lib/jvm: apt-get install openjdk-17-jdk-headless, or set INFRA_JAVA_HOME');
  }
  return path.join(jvmRoot, jdk17, 'bin', 'java');
}
