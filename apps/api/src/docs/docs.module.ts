import { Module } from '@nestjs/common';
import { DocsController } from './docs.controller';
import { DocsService } from './docs.service';

/** `GET /docs` (Swagger UI) and `GET /docs/openapi.json` (the maintained docs/openapi.yaml, as JSON). */
@Module({ controllers: [DocsController], providers: [DocsService] })
export class DocsModule {}
