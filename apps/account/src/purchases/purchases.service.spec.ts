import 'reflect-metadata';
import { AccountEnv } from '../config/account.env';
import { LedgerService } from '../ledger/ledger.service';
import { MailPublisher } from '../mail/mail.publisher';
import { UsersService } from '../users/users.service';
import { OpenPurchaseAges } from './open-purchase-ages';
import { PurchaseOutcomesRepository } from './purchase-outcomes.repository';
import { Purchase, PurchaseRepository, PurchaseStage, StageChange } from './purchase.repository';
import { PurchaseSagaService } from './purchase-saga.service';
import { PurchaseWatchers } from './purchase-watchers';
import { PurchasesService } from './purchases.service';

/** The purchases table in memory, with the repository's compare-and-set on the stage. */
class FakePurchases {
  rows = new Map<string, Purchase>();
  reads = 0;
  async find(id: string) {
    this.reads++;
    const p = this.rows.get(id);
    return p && { ...p };
  }
  async transition(id: string, from: PurchaseStage, change: StageChange, now: Date) {
    const p = this.rows.get(id);
    if (!p || p.stage !== from) return false;
    this.rows.set(id, { ...p, stage: change.stage, status: change.status, reason: change.reason ?? null, updatedAt: now });
    return true;
  }
  async close() {}
  async setDue() {}
}

function purchase(stage: PurchaseStage): Purchase {
  const at = new Date();
  return {
    purchaseId: 'p1',
    userId: 'u1',
    sku: 'S',
    quantity: 1,
    unitPrice: 5,
    lines: [{ sku: 'S', quantity: 1, unitPrice: 5 }],
    amount: 5,
    status: 'PENDING',
    stage,
    reason: null,
    attempts: 1,
    stageSince: at,
    correlationId: 'c1',
    createdAt: at,
    updatedAt: at,
  };
}

/** The use cases and the saga they share watchers with, over the same rows. */
function service(rows: FakePurchases) {
  const env = Object.assign(new AccountEnv(), { PURCHASE_RETRY_AFTER_MS: 3_000, PURCHASE_VOID_AFTER_MS: 30_000 });
  const watchers = new PurchaseWatchers();
  const ages = new OpenPurchaseAges();
  const announced: unknown[] = [];
  const saga = new PurchaseSagaService(
    rows as unknown as PurchaseRepository,
    {} as LedgerService,
    { findUser: async () => undefined } as unknown as UsersService,
    {} as MailPublisher,
    { dispatch: async (_contract: unknown, record: { data: unknown }) => void announced.push(record.data) } as never,
    watchers,
    ages,
    { add: async () => undefined } as unknown as PurchaseOutcomesRepository,
    env,
  );
  return { sut: new PurchasesService(rows as unknown as PurchaseRepository, saga, watchers, ages, env), saga, announced };
}

describe(PurchasesService.name, () => {
  it('answers a long poll as soon as the purchase reaches its terminal status', async () => {
    const rows = new FakePurchases();
    rows.rows.set('p1', purchase('RESERVING'));
    const { sut, saga } = service(rows);
    const started = Date.now();
    const polled = sut.get('u1', 'p1', 10_000);
    await new Promise((resolve) => setImmediate(resolve));
    await saga.onStockReserved({ purchaseId: 'p1', sku: 'S', quantity: 1 });
    expect(await polled).toMatchObject({ purchaseId: 'p1', status: 'COMPLETED' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('answers a long poll with the purchase as it is when the wait runs out', async () => {
    const rows = new FakePurchases();
    rows.rows.set('p1', purchase('RESERVING'));
    expect(await service(rows).sut.get('u1', 'p1', 20)).toMatchObject({ status: 'PENDING' });
  });

  it('does not wait on a purchase that is already terminal, nor show another user one', async () => {
    const rows = new FakePurchases();
    rows.rows.set('p1', { ...purchase('COMPLETED'), status: 'COMPLETED' });
    const { sut } = service(rows);
    expect(await sut.get('u1', 'p1', 60_000)).toMatchObject({ status: 'COMPLETED' });
    await expect(sut.get('u2', 'p1', 60_000)).rejects.toMatchObject({ code: expect.any(String), kind: 'not_found' });
  });

  it('finishes a purchase from the row it just wrote, without reading it back', async () => {
    const rows = new FakePurchases();
    rows.rows.set('p1', purchase('RESERVING'));
    await service(rows).saga.onStockReserved({ purchaseId: 'p1', sku: 'S', quantity: 1 });
    expect(rows.rows.get('p1')!.stage).toBe('COMPLETED');
    expect(rows.reads).toBe(1);
  });

  it('broadcasts the new status to the api once, with the purchase as its buyer sees it; a repeat announces nothing', async () => {
    const rows = new FakePurchases();
    rows.rows.set('p1', purchase('RESERVING'));
    const { saga, announced } = service(rows);
    await saga.onStockReserved({ purchaseId: 'p1', sku: 'S', quantity: 1 });
    await saga.onStockReserved({ purchaseId: 'p1', sku: 'S', quantity: 1 });
    expect(announced).toEqual([
      {
        userId: 'u1',
        purchase: {
          purchaseId: 'p1',
          sku: 'S',
          quantity: 1,
          amount: 5,
          lines: [{ sku: 'S', quantity: 1, unitPrice: 5, amount: 5 }],
          status: 'COMPLETED',
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
      },
    ]);
  });
});
