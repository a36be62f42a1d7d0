import { DynamicModule } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateEnv } from '@app/config';
import { APP_NAMES, AppName, appUrl } from '@app/testing';
import { IngestEnv } from '../../ingest/src/config/ingest.env';
import { IngestModule } from '../../ingest/src/ingest.module';
import { ApiModule } from '../src/api.module';
import { ApiEnv } from '../src/config/api.env';

jest.setTimeout(120_000);

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
/** Served but not API: the files of the /docs page itself. */
/** The static files of the two pages (their pages are documented). */
const NOT_DOCUMENTED = new Set(['GET /docs/assets/{file}', 'GET /ops/assets/{file}']);

interface OpenApi {
  openapi: string;
  servers?: { url: string }[];
  paths: Record<string, { servers?: { url: string }[] } & Partial<Record<(typeof METHODS)[number], unknown>>>;
}

const maintained = (): OpenApi => parse(readFileSync(join(__dirname, '../../../docs/openapi.yaml'), 'utf8')) as OpenApi;

/** The app a server URL of the document names, by its default port (3000 api … 3005 mailer). */
function appOf(url: string): AppName {
  const port = Number(/:(\d+)/.exec(url)?.[1]);
  const app = APP_NAMES[port - 3000];
  if (!app) throw new Error(`docs/openapi.yaml: the server ${url} is none of the apps' default ports (3000–3005)`);
  return app;
}

/** `METHOD /path` of every operation the document says `app` serves (a path's own servers, else the document's). */
function documented(doc: OpenApi, app: AppName): Set<string> {
  const routes = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    const servers = item.servers ?? doc.servers ?? [];
    if (!servers.some((s) => appOf(s.url) === app)) continue;
    for (const method of METHODS) if (item[method]) routes.add(`${method.toUpperCase()} ${path}`);
  }
  return routes;
}

/**
 * Every route the app's Nest application registers on Fastify, as `METHOD /path/{param}`: the app
 * itself, built from its module and initialised (on the real infrastructure) without listening.
 */
async function served(module: DynamicModule): Promise<Set<string>> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  const routes = new Set<string>();
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method === 'HEAD' || method === 'OPTIONS') continue;
        routes.add(`${method} ${route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
      }
    });
  try {
    await app.init();
  } finally {
    await app.close();
  }
  return routes;
}

/** What differs, in words that say what to do; empty when the two agree. */
function disagreement(app: AppName, routes: Set<string>, doc: Set<string>): string {
  const undocumented = [...routes].filter((r) => !doc.has(r) && !NOT_DOCUMENTED.has(r)).sort();
  const unserved = [...doc].filter((r) => !routes.has(r)).sort();
  const lines: string[] = [];
  if (undocumented.length)
    lines.push(`${app} serves these routes that docs/openapi.yaml lacks (document them there and in docs/api.md):`, ...undocumented.map((r) => `  ${r}`));
  if (unserved.length)
    lines.push(`docs/openapi.yaml lists these routes for ${app}, which it does not serve (serve them, or take them out):`, ...unserved.map((r) => `  ${r}`));
  return lines.join('\n');
}

describe('the OpenAPI document and the routes (e2e)', () => {
  it('/docs/openapi.json is docs/openapi.yaml, an OpenAPI 3.x document', async () => {
    const reply = await fetch(`${appUrl('api')}/docs/openapi.json`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    const served = (await reply.json()) as OpenApi;
    expect(served.openapi).toMatch(/^3\./);
    expect(served).toEqual(maintained());
  });

  it('/docs renders it for people from files the api serves itself (no CDN)', async () => {
    const reply = await fetch(`${appUrl('api')}/docs`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await reply.text();
    expect(page).toContain('id="swagger-ui"');
    const files = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((f) => f.startsWith('/docs/assets/'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(page).not.toMatch(/(?:src|href)="https?:/);
    for (const file of files) {
      const asset = await fetch(`${appUrl('api')}${file}`);
      expect({ file, status: asset.status }).toEqual({ file, status: 200 });
      expect(asset.headers.get('content-type')).toMatch(/^(text\/css|text\/javascript|image\/png)/);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    expect((await fetch(`${appUrl('api')}/docs/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${appUrl('api')}/docs/assets/index.html`)).status).toBe(404);
  });

  it.each([
    ['api', () => ApiModule.forEnv(validateEnv(ApiEnv, { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn' }))],
    ['ingest', () => IngestModule.forEnv(validateEnv(IngestEnv, { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn' }))],
  ] as const)('every route %s serves is in the document, and every route the document gives it is served', async (app, module) => {
    const routes = await served(module());
    expect(routes.size).toBeGreaterThan(3);
    expect(disagreement(app, routes, documented(maintained(), app))).toBe('');
  });
});
