import 'reflect-metadata';
import { DomainError, RpcContract } from '@app/contracts';
import { RabbitRecord } from '@app/messaging';
import { ApiEnv } from '../config/api.env';
import { MAX_WAITS_PER_USER, purchaseIdFor, PurchasesService } from './purchases.service';

/** A stub of RabbitClient.request (a port of our own) that sees queue names and payloads. */
function rabbitStub(answer: (queue: string, message: any) => Promise<unknown>) {
  return {
    request: jest.fn((contract: RpcContract, data: object) => answer(contract.pattern, data instanceof RabbitRecord ? data.data : data)),
  };
}

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
    const rpc = rabbitStub(async (queue, message) => {
      requests.push([queue, message]);
      if (queue === 'shop.rpc.get-item') {
        if (message.sku === 'known') return { sku: 'known', name: 'K', price: 250, quantity: 3, priceVersion: 0 };
        throw new DomainError('ITEM.NOT_FOUND', 'not_found', 'no such item');
      }
      return { purchaseId: message.purchaseId, status: 'PENDING' };
    });
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

  it('holds long polls on their own queue, at most MAX_WAITS_PER_USER per user; past that, answers at once', async () => {
    const held: (() => void)[] = [];
    const rpc = rabbitStub((queue, message: { purchaseId: string }) =>
      queue === 'account.rpc.wait-purchase'
        ? new Promise((resolve) => held.push(() => resolve({ purchaseId: message.purchaseId, status: 'COMPLETED' })))
        : Promise.resolve({ purchaseId: message.purchaseId, status: 'PENDING' }),
    );
    const sut = new PurchasesService(rpc as any, new ApiEnv());
    const waits = Array.from({ length: MAX_WAITS_PER_USER }, (_, i) => sut.get('u1', `p${i}`, 10_000));
    await expect(sut.get('u1', 'px', 10_000)).resolves.toMatchObject({ status: 'PENDING' });
    await expect(sut.get('u2', 'py', 0)).resolves.toMatchObject({ status: 'PENDING' });
    const queues = rpc.request.mock.calls.map(([contract]) => contract.pattern);
    expect(queues.filter((q) => q === 'account.rpc.wait-purchase')).toHaveLength(MAX_WAITS_PER_USER);
    expect(queues.filter((q) => q === 'account.rpc.get-purchase')).toHaveLength(2);
    held.forEach((release) => release());
    await Promise.all(waits);
    // Released: the user may wait again.
    void sut.get('u1', 'pz', 10_000);
    expect(rpc.request.mock.calls.at(-1)?.[0].pattern).toBe('account.rpc.wait-purchase');
  });
});
