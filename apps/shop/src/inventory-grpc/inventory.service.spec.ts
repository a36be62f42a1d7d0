import { DomainError } from '@app/contracts';
import type { Item } from '../items/item';
import type { ItemsRepository } from '../items/items.repository';
import { InventoryService } from './inventory.service';

const item = (sku: string, price: number, quantity: number): Item => ({
  sku,
  name: sku,
  price,
  quantity,
  priceVersion: 0,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

function setup(items: Item[]) {
  const repository = { find: jest.fn(async (sku: string) => items.find((i) => i.sku === sku) ?? null) };
  return { sut: new InventoryService(repository as unknown as ItemsRepository), repository };
}

describe(InventoryService.name, () => {
  it('answers each line in order: ok, or why not, with the quantity and price now', async () => {
    const { sut } = setup([item('a', 100, 5), item('b', 30, 1), item('c', 40, 9), item('neg', 10, -2)]);
    const reply = await sut.checkLines({
      lines: [
        { sku: 'a', quantity: 5, expectedUnitPrice: 100 },
        { sku: 'b', quantity: 2, expectedUnitPrice: 25 },
        { sku: 'c', quantity: 1, expectedUnitPrice: 45 },
        { sku: 'x', quantity: 1, expectedUnitPrice: 0 },
        { sku: 'neg', quantity: 1, expectedUnitPrice: 10 },
      ],
    });
    expect(reply.lines).toEqual([
      { sku: 'a', ok: true, reason: '', available: 5, price: 100 },
      // Short of stock is said before a changed price.
      { sku: 'b', ok: false, reason: 'INSUFFICIENT_STOCK', available: 1, price: 30 },
      { sku: 'c', ok: false, reason: 'PRICE_CHANGED', available: 9, price: 40 },
      { sku: 'x', ok: false, reason: 'UNKNOWN_SKU', available: 0, price: 0 },
      { sku: 'neg', ok: false, reason: 'INSUFFICIENT_STOCK', available: 0, price: 10 },
    ]);
  });

  it('an empty check reads nothing (the readiness probe)', async () => {
    const { sut, repository } = setup([]);
    expect(await sut.checkLines({ lines: [] })).toEqual({ lines: [] });
    expect(repository.find).not.toHaveBeenCalled();
  });

  it('refuses a sku on two lines', async () => {
    const { sut } = setup([item('a', 1, 1)]);
    const error = await sut
      .checkLines({
        lines: [
          { sku: 'a', quantity: 1, expectedUnitPrice: 1 },
          { sku: 'a', quantity: 1, expectedUnitPrice: 1 },
        ],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).kind).toBe('invalid');
  });
});
