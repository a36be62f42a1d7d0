import { Module } from '@nestjs/common';
import { OpsPageAssets } from './ops-page.assets';
import { OpsPageController } from './ops-page.controller';

/** The operators' page at `GET /ops` (HTML, CSS and a script; the data comes from /v1/ops). */
@Module({ controllers: [OpsPageController], providers: [OpsPageAssets] })
export class OpsPageModule {}
