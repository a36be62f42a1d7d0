// Makes sure Debian's chromium is installed, for the tests that drive the ops page in a headless
// browser (playwright-core brings no browser of its own). Prints the executable's path on stdout;
// installs the package with apt-get when it is missing (as root, or through `sudo -n`), and
// otherwise exits 1 with what to run. `node scripts/browser/ensure-chromium.mjs` in CI does the same.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';

const log = (line) => process.stderr.write(`ensure-chromium: ${line}\n`);

function works(command, args) {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/** How to run apt-get here: directly as root, through sudo without a password, or not at all. */
function installer() {
  if (!works('sh', ['-c', 'command -v apt-get'])) return { reason: 'apt-get is not on this machine (the tests expect Debian or Ubuntu)' };
  if (process.getuid?.() === 0) return { prefix: [] };
  if (works('sudo', ['-n', 'true'])) return { prefix: ['sudo', '-n'] };
  return { reason: 'this user is not root and cannot use sudo without a password' };
}

/** The path of a working chromium, installing Debian's package first when there is none. */
export function ensureChromium() {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const how = installer();
  if (how.reason) {
    throw new Error(
      `${CHROMIUM} is missing and cannot be installed: ${how.reason}. Install it yourself: sudo apt-get update && sudo apt-get install -y chromium`,
    );
  }
  const run = (...args) => {
    const [command, ...rest] = [...how.prefix, ...args];
    log(`${command} ${rest.join(' ')}`);
    // apt's output goes to stderr: stdout carries only the path, which the tests read.
    execFileSync(command, rest, { stdio: ['ignore', process.stderr.fd, 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  run('apt-get', 'update');
  run('apt-get', 'install', '-y', 'chromium');
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    process.stdout.write(`${ensureChromium()}\n`);
  } catch (error) {
    log(error.message);
    process.exit(1);
  }
}
