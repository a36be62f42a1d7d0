import fc from 'fast-check';
import { planCommands, Reservation, SagaCommand, StockState } from './reservation';

const now = new Date('2026-01-01T00:00:00Z');
const reserve = (purchaseId: string, quantity = 1): SagaCommand => ({ type: 'reserve', purchaseId, sku: 'S', quantity });
const voidIt = (purchaseId: string, quantity = 1): SagaCommand => ({ type: 'void', purchaseId, sku: 'S', quantity });
const state = (quantity: number | null, rows: Reservation[] = []): StockState => ({ quantity, rows: new Map(rows.map((r) => [r.purchaseId, r])) });

describe(planCommands.name, () => {
  it('reserves while units are left and fails the rest as out of stock', () => {
    const sut = planCommands('S', state(2), [reserve('a'), reserve('b', 2), reserve('c')], now);
    expect(sut.outcomes.map((o) => o.type)).toEqual(['reserved', 'failed', 'reserved']);
    expect(sut.outcomes[1]).toMatchObject({ code: 'OUT_OF_STOCK' });
    expect(sut.nextQuantity).toBe(0);
    expect(sut.inserts.map((r) => r.status)).toEqual(['RESERVED', 'FAILED', 'RESERVED']);
  });

  it('answers a purchase it has decided before with the same answer and writes nothing', () => {
    const sut = planCommands('S', state(0, [{ purchaseId: 'a', quantity: 1, status: 'RESERVED', at: now }]), [reserve('a')], now);
    expect(sut.outcomes).toEqual([{ type: 'reserved', purchaseId: 'a', sku: 'S', quantity: 1 }]);
    expect(sut).toMatchObject({ inserts: [], voids: [], nextQuantity: 0, expectedQuantity: 0 });
  });

  it('decides a repeat inside one batch once', () => {
    const sut = planCommands('S', state(1), [reserve('a'), reserve('a'), reserve('b')], now);
    expect(sut.outcomes.map((o) => o.type)).toEqual(['reserved', 'reserved', 'failed']);
    expect(sut.inserts).toHaveLength(2);
  });

  it('returns the units of a voided reservation and refuses to reserve for it again', () => {
    const held: Reservation = { purchaseId: 'a', quantity: 3, status: 'RESERVED', at: now };
    const sut = planCommands('S', state(1, [held]), [voidIt('a', 3), reserve('a', 3)], now);
    expect(sut.nextQuantity).toBe(4);
    expect(sut.voids).toEqual(['a']);
    expect(sut.outcomes).toEqual([
      { type: 'voided', purchaseId: 'a' },
      { type: 'failed', purchaseId: 'a', code: 'VOIDED', reason: expect.any(String) },
    ]);
  });

  it('records a void for a purchase never seen, so a late reserve is refused', () => {
    const sut = planCommands('S', state(5), [voidIt('a'), reserve('a')], now);
    expect(sut.inserts).toEqual([expect.objectContaining({ purchaseId: 'a', status: 'VOIDED', quantity: 0 })]);
    expect(sut.outcomes[1]).toMatchObject({ type: 'failed', code: 'VOIDED' });
    expect(sut.nextQuantity).toBe(5);
  });

  it('fails reservations of an unknown sku', () => {
    const sut = planCommands('S', state(null), [reserve('a')], now);
    expect(sut.outcomes[0]).toMatchObject({ type: 'failed', code: 'UNKNOWN_SKU' });
    expect(sut.nextQuantity).toBeNull();
  });

  it('never goes below zero and conserves units, whatever the commands and repeats', () => {
    const command = fc.record({
      type: fc.constantFrom<'reserve' | 'void'>('reserve', 'reserve', 'void'),
      purchaseId: fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5', 'p6'),
      quantity: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.array(fc.array(command, { maxLength: 8 }), { maxLength: 6 }), (initial, batches) => {
        let current = state(initial);
        for (const batch of batches) {
          const plan = planCommands('S', current, batch.map((c) => ({ ...c, sku: 'S' })) as SagaCommand[], now);
          expect(plan.nextQuantity).toBeGreaterThanOrEqual(0);
          const rows = new Map(current.rows);
          for (const row of plan.inserts) rows.set(row.purchaseId, row);
          for (const id of plan.voids) rows.set(id, { ...rows.get(id)!, status: 'VOIDED' });
          current = { quantity: plan.nextQuantity, rows };
          const held = [...rows.values()].filter((r) => r.status === 'RESERVED').reduce((sum, r) => sum + r.quantity, 0);
          expect(current.quantity! + held).toBe(initial);
        }
      }),
    );
  });
});
