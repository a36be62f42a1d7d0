// MailDev (SMTP sink): SMTP on 127.0.0.1:1025, web UI and REST API on 127.0.0.1:1080.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { HOST, REPO_ROOT, dataDir } from '../paths.mjs';

const SMTP_PORT = 1025;
const WEB_PORT = 1080;

// node_modules/.bin/maildev is a symlink to this script; running it with our own node
// makes the pid in the pid file the server itself rather than a wrapper.
const maildevBin = () => path.join(path.dirname(createRequire(import.meta.url).resolve('maildev/package.json')), 'bin', 'maildev');

export default {
  name: 'maildev',
  ports: [SMTP_PORT, WEB_PORT],
  readyTimeoutMs: 30_000,
  stopTimeoutMs: 5_000,
  marker: 'maildev',

  async prepare() {
    mkdirSync(dataDir('maildev'), { recursive: true });
  },

  command() {
    return {
      cmd: process.execPath,
      args: [
        maildevBin(),
        '--ip',
        HOST,
        '--web-ip',
        HOST,
        '-s',
        String(SMTP_PORT),
        '-w',
        String(WEB_PORT),
        // Mails kept on disk under .infra/data (reloaded on restart, wiped by reset).
        '--mail-directory',
        dataDir('maildev'),
      ],
      cwd: REPO_ROOT,
    };
  },

  async probe(timeoutMs) {
    const res = await fetch(`http://${HOST}:${WEB_PORT}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).trim();
    // MailDev answers the JSON `true`; anything else on the port is not MailDev.
    if (!res.ok || body !== 'true') throw new Error(`GET /healthz answered ${res.status} ${body.slice(0, 40)}`);
    return 'healthz ok';
  },
};
