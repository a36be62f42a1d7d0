import { Injectable } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DomainError } from '@app/contracts';

/** Where `npm run build` (scripts/copy-assets.mjs) puts docs/openapi.yaml as JSON, beside this module. */
export const OPENAPI_JSON = join(__dirname, 'openapi.json');

/** Swagger UI's files the page loads, by the name it asks for. */
const SWAGGER_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/** Starts Swagger UI on the served document; a file of its own, as the security headers allow no inline script. */
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#swagger-ui', deepLinking: true, tryItOutEnabled: false });\n`;

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Retail back-end API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32" />
  </head>
  <body>
    <noscript>This page needs JavaScript; the document itself is at <a href="/docs/openapi.json">/docs/openapi.json</a>.</noscript>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/assets/docs-init.js"></script>
  </body>
</html>
`;

export interface DocsAsset {
  body: Buffer;
  contentType: string;
}

/** The document and the page's files, read once and kept. */
@Injectable()
export class DocsService {
  private json?: string;
  private readonly assets = new Map<string, DocsAsset>();
  private readonly swaggerDir = dirname(require.resolve('swagger-ui-dist/package.json'));

  page(): string {
    return PAGE;
  }

  /** The OpenAPI document as JSON; 503 with a clear message when the build did not produce it. */
  document(): string {
    if (this.json === undefined) {
      if (!existsSync(OPENAPI_JSON)) {
        throw new DomainError('DOCS.NOT_BUILT', 'unavailable', 'The OpenAPI document was not built with this server; run `npm run build`.');
      }
      this.json = readFileSync(OPENAPI_JSON, 'utf8');
    }
    return this.json;
  }

  /** One of the page's files, or undefined for any other name. */
  asset(name: string): DocsAsset | undefined {
    const cached = this.assets.get(name);
    if (cached) return cached;
    let asset: DocsAsset | undefined;
    if (name === 'docs-init.js') asset = { body: Buffer.from(INIT_SCRIPT), contentType: 'text/javascript; charset=utf-8' };
    else if (Object.hasOwn(SWAGGER_FILES, name)) asset = { body: readFileSync(join(this.swaggerDir, name)), contentType: SWAGGER_FILES[name] };
    if (asset) this.assets.set(name, asset);
    return asset;
  }
}
