import { Controller, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { RateLimitGuard } from '@app/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { bodyKind, IngestResult, IngestStockEventsService, nothingAccepted, NothingAcceptedBody } from './ingest-stock-events.service';

@Controller('v1/stores/:storeId/stock-events')
// The store key is checked before the body is read, in StoreApiKeyCheck's onRequest hook.
@UseGuards(RateLimitGuard)
export class StockEventsController {
  constructor(private readonly service: IngestStockEventsService) {}

  @Post()
  @HttpCode(202)
  async ingest(
    @Param('storeId') storeId: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IngestResult | NothingAcceptedBody> {
    const kind = bodyKind(request.headers['content-type']);
    const contentLength = Number(request.headers['content-length'] ?? 0) || undefined;
    const result = await this.service.ingest(
      storeId,
      kind === 'json' ? { kind, parsed: request.body } : { kind, stream: (request.body as Readable | undefined) ?? Readable.from([]), contentLength },
    );
    if (result.accepted > 0) return result;
    void reply.status(400);
    return nothingAccepted(result);
  }
}
