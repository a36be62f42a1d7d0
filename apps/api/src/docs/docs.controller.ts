import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DomainError, RequestErrorCodes } from '@app/contracts';
import { DocsService } from './docs.service';

/**
 * The OpenAPI document (docs/openapi.yaml, turned into JSON by the build) and Swagger UI over it,
 * served by the api itself: no CDN, no build step of its own. Public, like the document.
 */
@Controller('docs')
export class DocsController {
  constructor(private readonly docs: DocsService) {}

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return this.docs.page();
  }

  @Get('openapi.json')
  @Header('content-type', 'application/json; charset=utf-8')
  document(): string {
    return this.docs.document();
  }

  /** The page's own files (an allow-list: nothing else on disk is reachable). */
  @Get('assets/:file')
  asset(@Param('file') file: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    const found = this.docs.asset(file);
    if (!found) throw new DomainError(RequestErrorCodes.UnknownId, 'not_found', 'There is no such documentation file.');
    void reply.header('content-type', found.contentType).header('cache-control', 'public, max-age=3600');
    return found.body;
  }
}
