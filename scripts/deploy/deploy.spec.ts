import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { InvalidEnvironmentError, validateEnv } from '@app/config';
import { AccountEnv } from '../../apps/account/src/config/account.env';
import { ApiEnv } from '../../apps/api/src/config/api.env';
import { IngestEnv } from '../../apps/ingest/src/config/ingest.env';
import { MailerEnv } from '../../apps/mailer/src/config/mailer.env';
import { ProcessEnv } from '../../apps/process/src/config/process.env';
import { ShopEnv } from '../../apps/shop/src/config/shop.env';

/**
 * What the repository deploys with (deploy/k8s, deploy/prometheus, docker-compose.yml) checked
 * against the code it deploys: the rendered Kubernetes manifests, the alert rules and the metrics
 * they name, docs/metrics.md, and the compose file.
 */
const ROOT = join(__dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };
type EnvClass = new () => object;

const APPS: Record<string, { env: EnvClass; port: number; secrets: string[]; /** A gRPC port beside HTTP. */ grpcPort?: number }> = {
  api: { env: ApiEnv, port: new ApiEnv().API_PORT, secrets: ['JWT_SECRET', 'PAGE_TOKEN_SECRET', 'RABBITMQ_URL'] },
  ingest: { env: IngestEnv, port: new IngestEnv().INGEST_PORT, secrets: ['STORE_API_KEYS'] },
  process: { env: ProcessEnv, port: new ProcessEnv().PROCESS_PORT, secrets: [] },
  account: { env: AccountEnv, port: new AccountEnv().ACCOUNT_PORT, secrets: ['ADMIN_PASSWORD', 'PURCHASE_PAGE_TOKEN_SECRET', 'RABBITMQ_URL'] },
  shop: { env: ShopEnv, port: new ShopEnv().SHOP_PORT, secrets: ['SHOP_PAGE_TOKEN_SECRET', 'RABBITMQ_URL'], grpcPort: new ShopEnv().SHOP_GRPC_PORT },
  mailer: { env: MailerEnv, port: new MailerEnv().MAILER_PORT, secrets: ['RABBITMQ_URL'] },
};
const APP_NAMES = Object.keys(APPS);
const AUTOSCALED = ['api', 'process', 'mailer'];
/** The names libs/config never echoes: secrets, and URLs that may carry credentials. */
const SECRET_NAME = /(SECRET|PASSWORD|TOKEN|_KEYS?|_URL)$/;

/** The apps' own shutdown cap (a timer in closeOnSignals that exits the process). */
function shutdownCapSeconds(): number {
  const match = /setTimeout\(\(\) => \{[^}]*shutdown took longer[^}]*\},\s*([\d_]+)\)/.exec(read('libs/http/src/bootstrap.ts'));
  if (!match) throw new Error('the shutdown timer of closeOnSignals was not found in libs/http/src/bootstrap.ts; update this test with it');
  return Number(match[1].replace(/_/g, '')) / 1000;
}

function kustomize(dir: string): Manifest[] {
  const result = spawnSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8' });
  if (result.error) {
    throw new Error(
      `kubectl is needed to render ${dir} (\`kubectl kustomize\`) and was not found (${result.error.message}). ` +
        'Install kubectl 1.27 or later (it includes kustomize); the CI machines have it.',
    );
  }
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout).map((doc) => doc.toJS() as Manifest);
}

const find = (all: Manifest[], kind: string, name: string) => all.find((m) => m.kind === kind && m.metadata.name === name);
const ofKind = (all: Manifest[], kind: string) => all.filter((m) => m.kind === kind);

/** The environment a Deployment's container gets: its ConfigMaps, then its own entries (Secret values decoded). */
function containerEnv(all: Manifest[], deployment: Manifest): Record<string, string> {
  const container = deployment.spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.secretRef) throw new Error(`${deployment.metadata.name} takes a whole Secret with envFrom: reference only the keys it needs`);
    const map = find(all, 'ConfigMap', from.configMapRef.name);
    if (!map) throw new Error(`${deployment.metadata.name}: ConfigMap ${from.configMapRef.name} is not in the render`);
    Object.assign(env, map.data ?? {});
  }
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef;
    if (ref) {
      const secret = find(all, 'Secret', ref.name);
      if (!secret || !(ref.key in (secret.data ?? {}))) throw new Error(`${deployment.metadata.name}: Secret ${ref.name} has no key ${ref.key}`);
      env[entry.name] = Buffer.from(secret.data![ref.key] ?? '', 'base64').toString('utf8');
    } else {
      env[entry.name] = entry.value;
    }
  }
  return env;
}

function probeProblems(env: object, source: Record<string, string>): string[] {
  try {
    validateEnv(env as EnvClass, source);
    return [];
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) return error.problems;
    throw error;
  }
}

const cpu = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
const memory = (q: string) => {
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 };
  const match = /^(\d+(?:\.\d+)?)([KMG]i?)?$/.exec(q);
  if (!match) throw new Error(`cannot read the memory quantity ${q}`);
  return Number(match[1]) * (match[2] ? units[match[2]] : 1);
};

describe.each([
  ['deploy/k8s/base', 'base'],
  ['deploy/k8s/overlays/development', 'development'],
] as const)('%s rendered by kubectl kustomize', (dir, flavour) => {
  let all: Manifest[];
  beforeAll(() => {
    all = kustomize(dir);
  });

  const deployment = (app: string) => find(all, 'Deployment', app)!;
  const container = (app: string) => deployment(app).spec.template.spec.containers[0];

  it.each(APP_NAMES)('%s: a Deployment of the one image running its compiled main, and a Service on its port', (app) => {
    const d = deployment(app);
    expect(d).toBeDefined();
    const podLabels = d.spec.template.metadata.labels;
    expect(d.spec.selector.matchLabels).toEqual(expect.objectContaining({ 'app.kubernetes.io/name': app }));
    for (const [key, value] of Object.entries(d.spec.selector.matchLabels)) expect(podLabels[key]).toBe(value);
    expect(container(app).image).toMatch(/^retail-backend:/);
    expect(container(app).command).toEqual(['node', `dist/apps/${app}/src/main.js`]);
    const grpcPort = APPS[app].grpcPort;
    const grpc = grpcPort === undefined ? [] : [expect.objectContaining({ name: 'grpc', containerPort: grpcPort })];
    expect(container(app).ports).toEqual([expect.objectContaining({ name: 'http', containerPort: APPS[app].port }), ...grpc]);
    // What deploy/prometheus/prometheus.yml finds the pods by.
    expect(podLabels['app.kubernetes.io/part-of']).toBe('retail');
    expect(d.spec.template.metadata.annotations).toEqual(
      expect.objectContaining({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(APPS[app].port), 'prometheus.io/path': '/metrics' }),
    );

    const service = find(all, 'Service', app)!;
    expect(service).toBeDefined();
    for (const [key, value] of Object.entries(service.spec.selector)) expect(podLabels[key]).toBe(value);
    const grpcService = grpcPort === undefined ? [] : [expect.objectContaining({ port: grpcPort, targetPort: 'grpc' })];
    expect(service.spec.ports).toEqual([expect.objectContaining({ port: APPS[app].port, targetPort: 'http' }), ...grpcService]);
  });

  it.each(APP_NAMES)('%s: liveness on /health/live, readiness on /health/ready, on the app port', (app) => {
    const c = container(app);
    for (const [probe, path] of [
      ['startupProbe', '/health/live'],
      ['livenessProbe', '/health/live'],
      ['readinessProbe', '/health/ready'],
    ]) {
      expect({ probe, httpGet: c[probe]?.httpGet }).toEqual({ probe, httpGet: { path, port: 'http' } });
    }
    // Each readiness check is bounded to 2.5 s: the probe must wait for that.
    expect(c.readinessProbe.timeoutSeconds).toBeGreaterThan(2.5);
  });

  it.each(APP_NAMES)('%s: a termination grace period longer than the app’s shutdown cap plus the preStop pause', (app) => {
    const spec = deployment(app).spec.template.spec;
    const preStop = spec.containers[0].lifecycle?.preStop;
    const pause = preStop?.sleep?.seconds ?? (preStop?.exec?.command?.[0] === 'sleep' ? Number(preStop.exec.command[1]) : 0);
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(shutdownCapSeconds() + pause);
  });

  it.each(APP_NAMES)('%s: CPU and memory requested and limited', (app) => {
    const { requests, limits } = container(app).resources ?? {};
    for (const resource of ['cpu', 'memory']) {
      expect({ resource, request: typeof requests?.[resource], limit: typeof limits?.[resource] }).toEqual({ resource, request: 'string', limit: 'string' });
    }
    expect(cpu(requests.cpu)).toBeLessThanOrEqual(cpu(limits.cpu));
    expect(memory(requests.memory)).toBeLessThanOrEqual(memory(limits.memory));
  });

  it.each(APP_NAMES)('%s: a PodDisruptionBudget over its pods that never blocks a drain forever', (app) => {
    const pdb = find(all, 'PodDisruptionBudget', app)!;
    expect(pdb).toBeDefined();
    const podLabels = deployment(app).spec.template.metadata.labels;
    for (const [key, value] of Object.entries(pdb.spec.selector.matchLabels)) expect(podLabels[key]).toBe(value);
    if (pdb.spec.minAvailable !== undefined) expect(pdb.spec.minAvailable).toBeLessThan(deployment(app).spec.replicas ?? 2);
    else expect(pdb.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
  });

  if (flavour === 'base') {
    it('autoscales api, process and mailer, and only those; their Deployments leave the count to the autoscaler', () => {
      const hpas = ofKind(all, 'HorizontalPodAutoscaler');
      expect(hpas.map((h) => h.metadata.name).sort()).toEqual([...AUTOSCALED].sort());
      for (const hpa of hpas) {
        expect(hpa.apiVersion).toBe('autoscaling/v2');
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: hpa.metadata.name });
        expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
        expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
        expect(deployment(hpa.metadata.name).spec.replicas).toBeUndefined();
      }
      for (const app of APP_NAMES.filter((a) => !AUTOSCALED.includes(a))) expect(deployment(app).spec.replicas).toBeGreaterThanOrEqual(2);
    });

    it('holds no usable secret: with NODE_ENV=production every app that needs one refuses to start, naming it', () => {
      for (const [app, { env, secrets }] of Object.entries(APPS)) {
        const source = containerEnv(all, deployment(app));
        expect({ app, NODE_ENV: source.NODE_ENV }).toEqual({ app, NODE_ENV: 'production' });
        const problems = probeProblems(env, source);
        const named = secrets.filter((secret) => problems.some((problem) => problem.startsWith(`${secret} `)));
        expect({ app, refused: named }).toEqual({ app, refused: secrets });
        if (secrets.length === 0) expect({ app, problems }).toEqual({ app, problems: [] });
      }
    });
  } else {
    it('runs one replica of each app, without autoscalers', () => {
      expect(ofKind(all, 'HorizontalPodAutoscaler')).toEqual([]);
      for (const app of APP_NAMES) expect({ app, replicas: deployment(app).spec.replicas }).toEqual({ app, replicas: 1 });
    });

    it('gives every app a configuration it accepts, pointing at infrastructure Services of the overlay', () => {
      const services = new Map(ofKind(all, 'Service').map((s) => [s.metadata.name, s.spec.ports.map((p: { port: number }) => p.port)]));
      const reachable = (host: string, port: number) => (services.get(host) ?? []).includes(port);
      for (const [app, { env }] of Object.entries(APPS)) {
        const source = containerEnv(all, deployment(app));
        expect({ app, problems: probeProblems(env, source) }).toEqual({ app, problems: [] });
        const addresses = [
          ...(source.KAFKA_BROKERS ?? '').split(','),
          ...(source.CASSANDRA_CONTACT_POINTS ?? '').split(','),
          ...(source.SMTP_HOST ? [`${source.SMTP_HOST}:${source.SMTP_PORT}`] : []),
          ...[source.RABBITMQ_URL, source.REDIS_URL].filter(Boolean).map((url) => new URL(url).host),
        ].filter(Boolean);
        for (const address of addresses) {
          const [host, port] = address.split(':');
          expect({ app, address, reachable: reachable(host, Number(port)) }).toEqual({ app, address, reachable: true });
        }
      }
    });
  }

  it('configures from a ConfigMap and takes secrets from a Secret, key by key, and no secret is in a ConfigMap', () => {
    const maps = ofKind(all, 'ConfigMap');
    expect(maps.length).toBeGreaterThan(0);
    const secretValues = new Set(
      ofKind(all, 'Secret')
        .flatMap((s) => Object.values(s.data ?? {}))
        .map((v) => Buffer.from(v, 'base64').toString('utf8'))
        .filter((v) => v.length >= 8),
    );
    for (const map of maps) {
      for (const [key, value] of Object.entries(map.data ?? {})) {
        expect({ key, secretName: SECRET_NAME.test(key) }).toEqual({ key, secretName: false });
        expect({ key, secretValue: secretValues.has(value) }).toEqual({ key, secretValue: false });
      }
    }
    for (const app of APP_NAMES) {
      const c = container(app);
      expect(c.envFrom).toEqual(expect.arrayContaining([{ configMapRef: { name: expect.any(String) } }]));
      // Every setting of the app that is a secret comes from a Secret, never from a ConfigMap or a literal.
      const secretKeys = Object.keys(new APPS[app].env()).filter((key) => SECRET_NAME.test(key));
      const fromSecret = new Set((c.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name));
      expect({ app, missing: secretKeys.filter((key) => !fromSecret.has(key)) }).toEqual({ app, missing: [] });
      expect({ app, literals: (c.env ?? []).filter((e: any) => 'value' in e && SECRET_NAME.test(e.name)).map((e: any) => e.name) }).toEqual({
        app,
        literals: [],
      });
    }
  });
});

// --- metrics, alert rules, docs/metrics.md ---------------------------------------------------

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'test' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(path) ? [path] : [];
  });
}

/** Every metric name the apps and libs register with prom-client. */
const registeredMetrics = (() => {
  const names = new Map<string, string>();
  for (const file of [...sourceFiles(join(ROOT, 'apps')), ...sourceFiles(join(ROOT, 'libs'))]) {
    for (const match of readFileSync(file, 'utf8').matchAll(
      /new\s+(?:Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\s*\(\s*\{\s*name:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g,
    )) {
      names.set(match[1], relative(ROOT, file));
    }
  }
  return names;
})();

const PROMQL_WORDS = new Set(
  (
    'sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ignoring group_left group_right ' +
    'and or unless bool offset rate irate increase delta idelta deriv predict_linear histogram_quantile abs absent absent_over_time ' +
    'ceil floor round clamp clamp_min clamp_max changes resets time timestamp vector scalar sort sort_desc label_replace label_join ' +
    'avg_over_time min_over_time max_over_time sum_over_time count_over_time last_over_time quantile_over_time present_over_time ' +
    'humanize humanizeDuration inf nan'
  ).split(' '),
);
/** Series Prometheus makes itself, not the apps. */
const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** The metric names an expression reads (label matchers, grouping lists, strings and durations left out). */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((word) => !PROMQL_WORDS.has(word) && !/^\d/.test(word));
  return [...new Set(names)];
}

const registeredAs = (name: string) => [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => registeredMetrics.has(n) || PROMETHEUS_SERIES.has(n));

function which(command: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
const promtool = which('promtool');

describe('deploy/prometheus', () => {
  const alerts = parse(read('deploy/prometheus/alerts.yml')) as { groups: { name: string; rules: any[] }[] };
  const rules = alerts.groups.flatMap((g) => g.rules.map((rule) => ({ group: g.name, ...rule })));
  const metricsDoc = read('docs/metrics.md');

  it('finds the metrics the code registers', () => {
    expect(registeredMetrics.size).toBeGreaterThan(20);
    expect(registeredMetrics.get('kafka_consumer_lag')).toBe('libs/messaging/src/kafka/kafka.server.ts');
  });

  it('has named groups of alerts, each with an expression, a duration, a severity, a summary and a runbook link', () => {
    expect(alerts.groups.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const shape = {
        alert: typeof rule.alert,
        expr: typeof rule.expr,
        for: /^\d+[smh]$/.test(rule.for ?? ''),
        severity: ['warning', 'critical'].includes(rule.labels?.severity),
        summary: typeof rule.annotations?.summary,
        runbook: /^docs\/metrics\.md#[a-z0-9_]+$/.test(rule.annotations?.runbook ?? ''),
      };
      expect({ rule: rule.alert, ...shape }).toEqual({
        rule: rule.alert,
        alert: 'string',
        expr: 'string',
        for: true,
        severity: true,
        summary: 'string',
        runbook: true,
      });
      const anchor = rule.annotations.runbook.split('#')[1];
      expect({ rule: rule.alert, anchorInDocs: metricsDoc.includes(`### \`${anchor}\``) }).toEqual({ rule: rule.alert, anchorInDocs: true });
    }
  });

  it.each(['kafka_consumer_lag', 'dead_letter_messages', 'app_ready', 'up', 'purchases_oldest_pending_seconds'])('alerts on %s', (metric) => {
    expect(rules.filter((rule) => metricsIn(rule.expr).includes(metric)).map((rule) => rule.alert)).not.toEqual([]);
  });

  it('reads only metrics the code registers', () => {
    const unknown = rules.flatMap((rule) =>
      metricsIn(rule.expr)
        .filter((name) => !registeredAs(name))
        .map((name) => `${rule.alert}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('gives an example scrape configuration that loads these rules and scrapes the job they name', () => {
    const config = parse(read('deploy/prometheus/prometheus.yml'));
    expect(config.rule_files).toEqual(['alerts.yml']);
    expect(config.scrape_configs.map((job: { job_name: string }) => job.job_name)).toContain('retail');
  });

  (promtool ? it : it.skip)('passes promtool check rules and its unit tests (alerts.test.yml)', () => {
    const cwd = join(ROOT, 'deploy/prometheus');
    for (const args of [
      ['check', 'rules', 'alerts.yml'],
      ['test', 'rules', 'alerts.test.yml'],
    ]) {
      const result = spawnSync(promtool!, args, { cwd, encoding: 'utf8' });
      expect({ command: `promtool ${args.join(' ')}`, status: result.status, output: result.status === 0 ? '' : result.stdout + result.stderr }).toEqual({
        command: `promtool ${args.join(' ')}`,
        status: 0,
        output: '',
      });
    }
  });
});

describe('docs/metrics.md', () => {
  const doc = read('docs/metrics.md');
  const sections = [...doc.matchAll(/^### `([a-z_:][a-z0-9_:]*)`\n([^\n]*)/gm)].map((m) => ({ name: m[1], beingAdded: m[2].startsWith('**Being added.**') }));

  it('lists every metric the code registers', () => {
    const documented = new Set(sections.map((s) => s.name));
    expect([...registeredMetrics].filter(([name]) => !documented.has(name)).map(([name, file]) => `${name} (${file})`)).toEqual([]);
  });

  it('lists no metric the code does not register, unless marked as being added', () => {
    expect(sections.filter((s) => !s.beingAdded && !registeredMetrics.has(s.name)).map((s) => s.name)).toEqual([]);
  });
});

// --- docker-compose.yml ------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any>; volumes: Record<string, unknown> };
  const envExample = Object.fromEntries(
    read('.env.example')
      .split('\n')
      .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );

  it('keeps Kafka’s data in its volume (KAFKA_LOG_DIRS inside the mounted path)', () => {
    const kafka = compose.services.kafka;
    const mounts = (kafka.volumes as string[]).map((v) => v.split(':')).filter(([source]) => source in compose.volumes);
    expect(mounts.length).toBeGreaterThan(0);
    expect(mounts.some(([, target]) => String(kafka.environment.KAFKA_LOG_DIRS).startsWith(target))).toBe(true);
  });

  it('runs the shared rate-limit store and points every app that reads REDIS_URL at it', () => {
    expect(compose.services.redis).toBeDefined();
    for (const [app, { env }] of Object.entries(APPS)) {
      if (!('REDIS_URL' in new env())) continue;
      expect({ app, redis: new URL(compose.services[app].environment.REDIS_URL).hostname }).toEqual({ app, redis: 'redis' });
    }
  });

  it.each(APP_NAMES)('%s: built from the one Dockerfile, with an optional .env', (app) => {
    const service = compose.services[app];
    expect(service.build).toEqual({ context: '.', args: { APP: app } });
    expect(service.env_file).toEqual([{ path: '.env', required: false }]);
  });

  it('publishes the infrastructure on 127.0.0.1 at the addresses of .env.example, for apps run outside Docker', () => {
    const published = Object.values(compose.services).flatMap((s) => (s.ports ?? []) as string[]);
    const wanted = [
      envExample.KAFKA_BROKERS,
      envExample.CASSANDRA_CONTACT_POINTS,
      new URL(envExample.RABBITMQ_URL).host,
      new URL(envExample.REDIS_URL).host,
      `${envExample.SMTP_HOST}:${envExample.SMTP_PORT}`,
      '127.0.0.1:1080',
    ];
    for (const address of wanted) {
      const port = address.split(':')[1];
      expect({ address, published: published.includes(`${address}:${port}`) }).toEqual({ address, published: true });
    }
    expect(compose.services.kafka.environment.KAFKA_ADVERTISED_LISTENERS).toContain(`//${envExample.KAFKA_BROKERS}`);
  });

  it('passes `npm run compose:config`, which refuses a broken file', () => {
    const script = join(ROOT, 'scripts/deploy/compose-config.mjs');
    const good = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect({ status: good.status, stderr: good.stderr }).toEqual({ status: 0, stderr: '' });

    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    const broken = join(dir, 'docker-compose.yml');
    writeFileSync(broken, 'services:\n  app:\n    image: x\n    depends_on: [nothing]\n    env_file: [missing.env]\n    ports: ["${PORT:?set PORT}"]\n');
    const bad = spawnSync(process.execPath, [script, broken], { encoding: 'utf8', env: { ...process.env, PORT: '' } });
    expect(bad.status).not.toBe(0);
    // The repository's own check (where the Docker Compose plugin is absent) names each problem.
    if (good.stdout.includes('own check')) {
      expect(bad.stderr).toMatch(/no service "nothing"/);
      expect(bad.stderr).toMatch(/missing\.env does not exist/);
      expect(bad.stderr).toMatch(/required variable PORT is not set/);
    }
  });
});
