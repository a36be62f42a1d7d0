import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { MessageContracts, PriceChanged } from '@app/contracts';
import { RabbitClient, RabbitRecord } from '@app/messaging';
import { Watcher, WatchlistRepository } from './watchlist.repository';
import { WatchlistService } from './watchlist.service';

describe(WatchlistService.name, () => {
  const drop: PriceChanged = { sku: 'TV-1', name: 'Telly', oldPrice: 500, newPrice: 400, version: 3, changedAt: new Date().toISOString() };
  const watchers: Watcher[] = [
    { userId: 'u1', email: 'a@example.com', name: 'Ann' },
    { userId: 'u2', email: 'b@example.com' },
  ];
  let repository: jest.Mocked<Pick<WatchlistRepository, 'handledVersion' | 'recordHandled' | 'watchers'>>;
  let publisher: { dispatch: jest.Mock };
  let sut: WatchlistService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    repository = {
      handledVersion: jest.fn().mockResolvedValue(2),
      recordHandled: jest.fn().mockResolvedValue(undefined),
      watchers: jest.fn(async function* () {
        yield watchers;
      }),
    } as never;
    publisher = { dispatch: jest.fn().mockResolvedValue(undefined) };
    sut = new WatchlistService(repository as unknown as WatchlistRepository, publisher as unknown as RabbitClient);
  });

  it('queues one price-drop mail per watcher with a deterministic id, then records the version', async () => {
    await sut.onPriceChanged(drop, 'corr');
    expect(publisher.dispatch).toHaveBeenCalledTimes(2);
    expect(publisher.dispatch).toHaveBeenCalledWith(
      MessageContracts.SendMail,
      new RabbitRecord(
        { to: 'a@example.com', kind: 'price-drop', data: { name: 'Ann', sku: 'TV-1', itemName: 'Telly', oldPrice: 500, newPrice: 400 } },
        { messageId: 'price-drop:TV-1:3:u1', correlationId: 'corr' },
      ),
    );
    expect((publisher.dispatch.mock.calls[1][1] as RabbitRecord<object>).options.messageId).toBe('price-drop:TV-1:3:u2');
    expect(repository.recordHandled).toHaveBeenCalledWith('TV-1', 3, 500, 400);
    expect(publisher.dispatch.mock.invocationCallOrder[1]).toBeLessThan(repository.recordHandled.mock.invocationCallOrder[0]);
  });

  it.each([2, 1])('ignores a stale event (version %i when 2 was handled)', async (version) => {
    await sut.onPriceChanged({ ...drop, version }, 'corr');
    expect(publisher.dispatch).not.toHaveBeenCalled();
    expect(repository.recordHandled).not.toHaveBeenCalled();
  });

  it('mails nobody when the price goes up or stays, but records the version', async () => {
    await sut.onPriceChanged({ ...drop, newPrice: 600 }, 'corr');
    await sut.onPriceChanged({ ...drop, newPrice: 500, version: 4 }, 'corr');
    expect(publisher.dispatch).not.toHaveBeenCalled();
    expect(repository.recordHandled).toHaveBeenCalledTimes(2);
  });

  it('does not record the version when a mail request could not be queued (the batch is retried)', async () => {
    publisher.dispatch.mockRejectedValueOnce(new Error('broker down'));
    await expect(sut.onPriceChanged(drop, 'corr')).rejects.toThrow('broker down');
    expect(repository.recordHandled).not.toHaveBeenCalled();
  });
});
