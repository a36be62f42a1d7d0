import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxy, ClientProxyFactory, MessagePattern, MicroserviceOptions, Transport } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { firstValueFrom } from 'rxjs';

/**
 * The naive peer: the same four hops built the way Nest's docs show, `ClientProxy.send` over the
 * RMQ transport with its default settings (auto-ack, no prefetch set, non-persistent messages, no
 * publisher confirms): the "account" handler asks "shop" and awaits the answer.
 */
export async function nestPeer(url: string) {
  const run = randomUUID().slice(0, 8);
  const accountQueue = `bench.${run}.peer-account`;
  const shopQueue = `bench.${run}.peer-shop`;
  const toShop = ClientProxyFactory.create({ transport: Transport.RMQ, options: { urls: [url], queue: shopQueue } });

  @Controller()
  class ShopHandlers {
    @MessagePattern('reserve')
    reserve(data: { id: string }) {
      return { id: data.id, reserved: true };
    }
  }

  @Controller()
  class AccountHandlers {
    @MessagePattern('purchase')
    async purchase(data: { id: string }) {
      return firstValueFrom(toShop.send('reserve', data));
    }
  }

  @Module({ controllers: [ShopHandlers] })
  class ShopModule {}
  @Module({ controllers: [AccountHandlers] })
  class AccountModule {}

  const shop = await NestFactory.createMicroservice<MicroserviceOptions>(ShopModule, {
    transport: Transport.RMQ,
    options: { urls: [url], queue: shopQueue },
    logger: false,
  });
  const account = await NestFactory.createMicroservice<MicroserviceOptions>(AccountModule, {
    transport: Transport.RMQ,
    options: { urls: [url], queue: accountQueue },
    logger: false,
  });
  await shop.listen();
  await account.listen();
  const client: ClientProxy = ClientProxyFactory.create({ transport: Transport.RMQ, options: { urls: [url], queue: accountQueue } });
  await client.connect();
  await toShop.connect();

  return {
    async once(): Promise<void> {
      await firstValueFrom(client.send('purchase', { id: randomUUID() }));
    },
    async close() {
      await client.close();
      await toShop.close();
      await account.close();
      await shop.close();
    },
  };
}
