// `npm run compose:config`: checks docker-compose.yml (or the file given as argument). With the
// Docker Compose plugin this is `docker compose config -q` (the real parser: interpolation, merge
// keys, the Compose schema). Where the plugin is absent (a Docker client without it, as on the CI
// machines), the same file is checked here instead: YAML with its anchors and merge keys, every
// ${VARIABLE} resolved the way Compose resolves it (shell, then .env), and the structure Compose
// would refuse (unknown keys, a service without image or build, depends_on or volumes naming
// nothing, malformed ports, an env_file that must exist and does not). Exit code 1 on problems.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseDocument } from 'yaml';

// The file to check (the repository's by default); its folder is the project folder, as for Compose.
const FILE = resolvePath(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../../docker-compose.yml'));
const ROOT = dirname(FILE);

const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
if (plugin.status === 0) {
  const result = spawnSync('docker', ['compose', '-f', FILE, 'config', '-q'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

const SERVICE_KEYS = new Set(
  (
    'annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name cpu_count ' +
    'cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset credential_spec depends_on deploy ' +
    'develop device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file environment expose extends ' +
    'external_links extra_hosts gpus group_add healthcheck hostname image init ipc isolation labels label_file links logging ' +
    'mac_address mem_limit mem_reservation mem_swappiness memswap_limit network_mode networks oom_kill_disable oom_score_adj ' +
    'pid pids_limit platform ports post_start pre_stop privileged profiles pull_policy read_only restart runtime scale secrets ' +
    'security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits user userns_mode uts ' +
    'volumes volumes_from working_dir'
  ).split(' '),
);
const TOP_KEYS = new Set(['version', 'name', 'include', 'services', 'networks', 'volumes', 'configs', 'secrets']);
const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);
const PORT = /^(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]):)?(?:\d{1,5}(?:-\d{1,5})?:)?\d{1,5}(?:-\d{1,5})?(?:\/(?:tcp|udp))?$/;
const problems = [];

// Compose's variables: the shell's, then those of the .env beside the file.
const variables = { ...(existsSync(join(ROOT, '.env')) ? parseEnvFile(readFileSync(join(ROOT, '.env'), 'utf8')) : {}), ...process.env };

function parseEnvFile(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) out[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

/** `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`, `${NAME:+alt}`, `$NAME`, `$$`. */
function interpolate(value, where) {
  return value.replace(/\$(?:\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*)|)/g, (whole, braced, bare) => {
    if (whole === '$$') return '$';
    if (bare !== undefined) return variables[bare] ?? '';
    if (braced === undefined) {
      problems.push(`${where}: a lone "$" (write "$$" for a literal dollar sign)`);
      return '';
    }
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$/s.exec(braced);
    if (!match) {
      problems.push(`${where}: invalid interpolation "\${${braced}}"`);
      return '';
    }
    const [, name, operator, argument = ''] = match;
    const raw = variables[name];
    const unset = operator?.startsWith(':') ? raw === undefined || raw === '' : raw === undefined;
    switch (operator) {
      case undefined:
        return raw ?? '';
      case ':-':
      case '-':
        return unset ? argument : raw;
      case ':?':
      case '?':
        if (unset) problems.push(`${where}: required variable ${name} is not set: ${argument}`);
        return raw ?? '';
      default:
        return unset ? '' : argument;
    }
  });
}

function resolve(node, where) {
  if (typeof node === 'string') return interpolate(node, where);
  if (Array.isArray(node)) return node.map((item, i) => resolve(item, `${where}[${i}]`));
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, resolve(item, `${where}.${key}`)]));
  return node;
}

const text = readFileSync(FILE, 'utf8');
const document = parseDocument(text, { merge: true, uniqueKeys: true });
for (const error of document.errors) problems.push(`YAML: ${error.message}`);
const compose = problems.length ? {} : resolve(parse(text, { merge: true }), basename(FILE));

for (const key of Object.keys(compose)) if (!TOP_KEYS.has(key) && !key.startsWith('x-')) problems.push(`unknown top-level key "${key}"`);
const services = compose.services ?? {};
if (Object.keys(services).length === 0) problems.push('no services');
const volumes = new Set(Object.keys(compose.volumes ?? {}));

for (const [name, service] of Object.entries(services)) {
  const at = `services.${name}`;
  for (const key of Object.keys(service)) if (!SERVICE_KEYS.has(key) && !key.startsWith('x-')) problems.push(`${at}: unknown key "${key}"`);
  if (!service.image && !service.build) problems.push(`${at}: has neither image nor build`);
  const dependsOn = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
  for (const dependency of dependsOn) if (!(dependency in services)) problems.push(`${at}.depends_on: no service "${dependency}"`);
  if (!Array.isArray(service.depends_on)) {
    for (const [dependency, spec] of Object.entries(service.depends_on ?? {})) {
      if (spec?.condition && !CONDITIONS.has(spec.condition)) problems.push(`${at}.depends_on.${dependency}: unknown condition "${spec.condition}"`);
    }
  }
  for (const port of service.ports ?? [])
    if (typeof port === 'string' && !PORT.test(port)) problems.push(`${at}.ports: "${port}" is not [ip:][host:]container[/protocol]`);
  for (const mount of service.volumes ?? []) {
    const source = typeof mount === 'string' ? mount.split(':')[0] : mount.source;
    if (source && !/^[./~]/.test(source) && !source.startsWith('/') && !volumes.has(source))
      problems.push(`${at}.volumes: named volume "${source}" is not declared`);
  }
  for (const entry of [service.env_file ?? []].flat()) {
    const path = typeof entry === 'string' ? entry : entry.path;
    const required = typeof entry === 'string' ? true : entry.required !== false;
    if (typeof path !== 'string') problems.push(`${at}.env_file: an entry without path`);
    else if (required && !existsSync(join(ROOT, path))) problems.push(`${at}.env_file: ${path} does not exist (mark it required: false if it is optional)`);
  }
  const environment = service.environment ?? {};
  if (!Array.isArray(environment)) {
    for (const [key, value] of Object.entries(environment)) {
      if (value !== null && typeof value === 'object') problems.push(`${at}.environment.${key}: must be a string, number or boolean`);
    }
  }
  const test = service.healthcheck?.test;
  if (Array.isArray(test) && !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0])) problems.push(`${at}.healthcheck.test: must start with CMD, CMD-SHELL or NONE`);
}

if (problems.length > 0) {
  process.stderr.write(`${basename(FILE)} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(
  `${basename(FILE)}: ${Object.keys(services).length} services valid (the Docker Compose plugin is not installed here, so this is the repository's own check; \`docker compose config -q\` where it is).\n`,
);
