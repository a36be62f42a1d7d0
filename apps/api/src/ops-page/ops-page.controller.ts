import { Controller, Get, Param, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { OpsPageAssets } from './ops-page.assets';

/**
 * The page's own Content-Security-Policy, stricter than the api's default: its own script and
 * style files only (no inline code or style), calls to this origin only, no framing, and no
 * upgrade-insecure-requests, so the page also works over plain HTTP on a LAN address.
 */
const PAGE_CSP = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
};

/**
 * `GET /ops`: the operators' page, and its files under `/ops/assets/`. The page is public; the data it
 * shows comes from the /v1/ops endpoints, which need an admin or ops token.
 */
@Controller('ops')
export class OpsPageController {
  constructor(private readonly assets: OpsPageAssets) {}

  @Get()
  @RouteConfig({ helmet: { contentSecurityPolicy: { useDefaults: false, directives: PAGE_CSP } } })
  page(@Res({ passthrough: true }) reply: FastifyReply): string {
    return this.send(reply, 'index.html');
  }

  @Get('assets/:file')
  file(@Param('file') name: string, @Res({ passthrough: true }) reply: FastifyReply): string {
    return this.send(reply, name);
  }

  private send(reply: FastifyReply, name: string): string {
    const file = this.assets.get(name);
    void reply.type(file.contentType);
    return file.body;
  }
}
