import { Injectable } from '@nestjs/common';
import { DomainError } from '@app/contracts';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

export interface PageFile {
  contentType: string;
  body: string;
}

/**
 * The ops page's files (plain HTML, CSS and one script, no build step), read once at start from
 * `assets/` beside this module: the sources under ts-node and jest, the copy that
 * `scripts/copy-assets.mjs` puts into dist for the compiled app.
 */
@Injectable()
export class OpsPageAssets {
  private readonly files = new Map<string, PageFile>();

  constructor() {
    const directory = join(__dirname, 'assets');
    let names: string[];
    try {
      names = readdirSync(directory);
    } catch {
      throw new Error(`the ops page's files are missing from ${directory}; build with "npm run build", which copies them there`);
    }
    for (const name of names) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType) this.files.set(name, { contentType, body: readFileSync(join(directory, name), 'utf8') });
    }
    if (!this.files.has('index.html')) throw new Error(`the ops page's index.html is missing from ${directory}`);
  }

  /** One file by name; OPS_PAGE.NOT_FOUND (404) for any other name. */
  get(name: string): PageFile {
    const file = this.files.get(name);
    if (!file) throw new DomainError('OPS_PAGE.NOT_FOUND', 'not_found', 'The ops page has no such file; open GET /ops.');
    return file;
  }
}
