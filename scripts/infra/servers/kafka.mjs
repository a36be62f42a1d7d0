// Kafka 4.1 in KRaft combined mode (broker + controller, node 1) on 127.0.0.1:9092 / :9093.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import kafkajs from 'kafkajs';
import { ensureLibs, libDir } from '../maven.mjs';
import { HOST, dataDir, homeDir, javaBin, srcFile } from '../paths.mjs';
import { run, withTimeout } from '../proc.mjs';

const { Kafka, logLevel } = kafkajs;

const PORT = 9092;
const CONTROLLER_PORT = 9093;
const MAIN_CLASS = 'kafka.Kafka';

const configPath = () => path.join(homeDir('kafka'), 'server.properties');
const classpath = () => path.join(libDir('kafka'), '*');

/**
 * Command line of one of Kafka's tools on the broker's classpath, e.g.
 * toolCommand('org.apache.kafka.tools.ProducerPerformance', [...]) (after a first `up`).
 */
export function toolCommand(mainClass, args = []) {
  return {
    cmd: javaBin(),
    args: [`-Dlog4j2.configurationFile=${srcFile('kafka', 'tools-log4j2.properties')}`, '-cp', classpath(), mainClass, ...args],
  };
}

const kafkaTool = async (mainClass, args) => {
  const { cmd, args: argv } = toolCommand(mainClass, args);
  return run(cmd, argv);
};

export default {
  name: 'kafka',
  ports: [PORT, CONTROLLER_PORT],
  readyTimeoutMs: 90_000,
  stopTimeoutMs: 30_000,
  marker: MAIN_CLASS,

  async prepare() {
    await ensureLibs('kafka');
    const logDirs = dataDir('kafka');
    mkdirSync(logDirs, { recursive: true });
    const template = readFileSync(srcFile('kafka', 'server.properties'), 'utf8');
    writeFileSync(configPath(), template.replaceAll('@LOG_DIRS@', logDirs));

    // StorageTool writes meta.properties on format: once per (empty) data folder.
    if (!existsSync(path.join(logDirs, 'meta.properties'))) {
      const clusterId = (await kafkaTool('kafka.tools.StorageTool', ['random-uuid'])).trim();
      await kafkaTool('kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', configPath(), '--ignore-formatted']);
    }
  },

  command() {
    return {
      cmd: javaBin(),
      args: [
        '-Xms768m',
        '-Xmx768m',
        // As Kafka's bin/kafka-server-start.sh and kafka-run-class.sh.
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:InitiatingHeapOccupancyPercent=35',
        '-XX:+ExplicitGCInvokesConcurrent',
        '-XX:MaxInlineLevel=15',
        '-Djava.awt.headless=true',
        '-XX:+ExitOnOutOfMemoryError',
        `-Dlog4j2.configurationFile=${srcFile('kafka', 'log4j2.properties')}`,
        '-cp',
        classpath(),
        MAIN_CLASS,
        configPath(),
      ],
      cwd: homeDir('kafka'),
    };
  },

  /** Admin connect, cluster description and a metadata fetch of all topics. */
  async probe(timeoutMs) {
    const kafka = new Kafka({
      clientId: 'infra-probe',
      brokers: [`${HOST}:${PORT}`],
      logLevel: logLevel.NOTHING,
      connectionTimeout: Math.min(timeoutMs, 2_000),
      requestTimeout: timeoutMs,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      return await withTimeout(
        (async () => {
          await admin.connect();
          const cluster = await admin.describeCluster();
          if (cluster.brokers.length === 0) throw new Error('no broker in the cluster description');
          await admin.fetchTopicMetadata();
          return `cluster ${cluster.clusterId}`;
        })(),
        timeoutMs,
        'kafka',
      );
    } finally {
      admin.disconnect().catch(() => {});
    }
  },
};
