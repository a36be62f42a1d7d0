import { BalanceState, LedgerRepository } from './ledger.repository';
import { LedgerService } from './ledger.service';

/** An in-memory stand-in with the repository's compare-and-set semantics, and a hook to inject a rival writer. */
class FakeLedger {
  state: BalanceState = { balance: 0, version: 0 };
  entries = new Map<string, number>();
  beforeApply?: () => void;

  async open() {}
  async balance() {
    return { ...this.state };
  }
  async entryAmount(_user: string, entryId: string) {
    return this.entries.get(entryId);
  }
  async apply(_user: string, entryId: string, amount: number, seen: BalanceState) {
    this.beforeApply?.();
    if (seen.version !== this.state.version) return false;
    this.state = { balance: seen.balance + amount, version: seen.version + 1 };
    this.entries.set(entryId, amount);
    return true;
  }
}

describe(LedgerService.name, () => {
  it('applies an entry once: a repeat changes nothing and says so', async () => {
    const fake = new FakeLedger();
    const sut = new LedgerService(fake as unknown as LedgerRepository);
    expect(await sut.change('u', 'credit:1', 500)).toEqual({ kind: 'applied', balance: 500 });
    expect(await sut.change('u', 'credit:1', 500)).toEqual({ kind: 'already-applied', balance: 500 });
    expect(await sut.change('u', 'debit:p1', -200)).toEqual({ kind: 'applied', balance: 300 });
    expect(await sut.change('u', 'debit:p1', -200)).toEqual({ kind: 'already-applied', balance: 300 });
  });

  it('refuses a debit the balance cannot cover', async () => {
    const fake = new FakeLedger();
    const sut = new LedgerService(fake as unknown as LedgerRepository);
    await sut.change('u', 'credit:1', 100);
    expect(await sut.change('u', 'debit:p1', -101)).toEqual({ kind: 'insufficient', balance: 100 });
    expect(fake.state.balance).toBe(100);
  });

  it('keeps refusing a refused debit, even once the balance could cover it (its purchase was rejected for it)', async () => {
    const fake = new FakeLedger();
    const sut = new LedgerService(fake as unknown as LedgerRepository);
    await sut.change('u', 'credit:1', 100);
    expect(await sut.change('u', 'debit:p1', -150)).toEqual({ kind: 'insufficient', balance: 100 });
    await sut.change('u', 'credit:2', 100);
    expect(await sut.change('u', 'debit:p1', -150)).toEqual({ kind: 'insufficient', balance: 200 });
    expect(fake.state.balance).toBe(200);
    expect(await sut.change('u', 'debit:p2', -150)).toEqual({ kind: 'applied', balance: 50 });
  });

  it('never loses an update when another instance writes in between (compare-and-set retried)', async () => {
    const fake = new FakeLedger();
    const sut = new LedgerService(fake as unknown as LedgerRepository);
    let rivals = 3;
    fake.beforeApply = () => {
      if (rivals-- > 0) fake.state = { balance: fake.state.balance + 10, version: fake.state.version + 1 };
    };
    expect(await sut.change('u', 'credit:1', 100)).toEqual({ kind: 'applied', balance: 130 });
  });

  it('serializes concurrent changes of one account in this process', async () => {
    const fake = new FakeLedger();
    const sut = new LedgerService(fake as unknown as LedgerRepository);
    await sut.change('u', 'credit:0', 1_000);
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => sut.change('u', `debit:${i}`, -100)));
    expect(outcomes.filter((o) => o.kind === 'applied')).toHaveLength(10);
    expect(outcomes.filter((o) => o.kind === 'insufficient')).toHaveLength(10);
    expect(fake.state.balance).toBe(0);
  });
});
