import 'reflect-metadata';
import { DomainError } from '@app/contracts';
import { ApiEnv } from '../config/api.env';
import { purchaseIdFor, PurchasesService } from './purchases.service';

describe(PurchasesService.name, () => {
  it('names the same purchase for the same user and Idempotency-Key, another for anyone else', () => {
    const id = purchaseIdFor('u1', 'k1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(purchaseIdFor('u1', 'k1')).toBe(id);
    expect(purchaseIdFor('u2', 'k1')).not.toBe(id);
    expect(purchaseIdFor('u1', 'k2')).not.toBe(id);
  });

  it('passes the catalog price to account, and no price for an sku the catalog does not know', async () => {
    const requests: [string, any][] = [];
    const rpc = {
      request: jest.fn(async (queue: string, message: any) => {
        requests.push([queue, message]);
        if (queue === 'shop.rpc.get-item') {
          if (message.sku === 'known') return { sku: 'known', name: 'K', price: 250, quantity: 3, priceVersion: 0 };
          throw new DomainError('ITEM.NOT_FOUND', 'not_found', 'no such item');
        }
        return { purchaseId: message.purchaseId, status: 'PENDING' };
      }),
    };
    const sut = new PurchasesService(rpc as any, new ApiEnv());
    await sut.place('u1', 'known', 2, 'key');
    await sut.place('u1', 'unknown', 1);
    const placed = requests.filter(([q]) => q === 'account.rpc.place-purchase').map(([, m]) => m);
    expect(placed[0]).toMatchObject({ purchaseId: purchaseIdFor('u1', 'key'), userId: 'u1', sku: 'known', quantity: 2, unitPrice: 250 });
    expect(placed[1].unitPrice).toBeUndefined();
  });

  it('lets a shop outage through as the 503 it is, instead of rejecting the purchase', async () => {
    const rpc = { request: jest.fn(async () => Promise.reject(new DomainError('RPC.TIMEOUT', 'unavailable', 'no answer'))) };
    const sut = new PurchasesService(rpc as any, new ApiEnv());
    await expect(sut.place('u1', 'x', 1)).rejects.toMatchObject({ kind: 'unavailable' });
    expect(rpc.request).toHaveBeenCalledTimes(1);
  });
});
