// Cassandra 5.0, one node on 127.0.0.1:9042 (storage 7000, local JMX 7199), on Java 17.
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import cassandra from 'cassandra-driver';
import { ensureLibs, libDir } from '../maven.mjs';
import { HOST, LOG_DIR, dataDir, javaBin, srcFile } from '../paths.mjs';
import { withTimeout } from '../proc.mjs';

const PORT = 9042;
const MAIN_CLASS = 'org.apache.cassandra.service.CassandraDaemon';

/** The jamm agent measures object sizes for memtable accounting; Cassandra needs it loaded. */
function jammJar() {
  const jar = readdirSync(libDir('cassandra')).find((f) => /^jamm-.*\.jar$/.test(f));
  if (!jar) throw new Error(`no jamm jar in ${libDir('cassandra')}`);
  return path.join(libDir('cassandra'), jar);
}

export default {
  name: 'cassandra',
  ports: [PORT, 7000, 7199],
  readyTimeoutMs: 180_000,
  stopTimeoutMs: 60_000,
  marker: MAIN_CLASS,

  async prepare() {
    await ensureLibs('cassandra');
    mkdirSync(dataDir('cassandra'), { recursive: true });
  },

  command() {
    return {
      cmd: javaBin(),
      args: [
        `@${srcFile('cassandra', 'jvm17.options')}`,
        '-Xms1g',
        '-Xmx1g',
        `-javaagent:${jammJar()}`,
        `-Dcassandra.config=${pathToFileURL(srcFile('cassandra', 'cassandra.yaml'))}`,
        `-Dcassandra.storagedir=${dataDir('cassandra')}`,
        `-Dcassandra.logdir=${LOG_DIR}`,
        `-Dlogback.configurationFile=${srcFile('cassandra', 'logback.xml')}`,
        '-Dcassandra-foreground=yes',
        '-Dcassandra.jmx.local.port=7199',
        // Test-kit settings for a fast single-node start.
        '-Dcassandra.skip_wait_for_gossip_to_settle=0',
        '-Dcassandra.unsafesystem=true',
        '-cp',
        path.join(libDir('cassandra'), '*'),
        MAIN_CLASS,
      ],
      cwd: dataDir('cassandra'),
    };
  },

  async probe(timeoutMs) {
    const client = new cassandra.Client({
      contactPoints: [`${HOST}:${PORT}`],
      localDataCenter: 'datacenter1',
      socketOptions: { connectTimeout: timeoutMs, readTimeout: timeoutMs },
    });
    try {
      return await withTimeout(
        (async () => {
          await client.connect();
          const rs = await client.execute('SELECT release_version FROM system.local');
          return `release ${rs.first().release_version}`;
        })(),
        timeoutMs,
        'cassandra',
      );
    } finally {
      client.shutdown().catch(() => {});
    }
  },
};
