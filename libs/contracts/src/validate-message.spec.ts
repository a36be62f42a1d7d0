import 'reflect-metadata';
import { PurchaseOutcomes, PurchaseOutcomesRequest, UserRequest } from './account/account-rpc';
import { checkContract } from './validate-message';

describe(checkContract.name, () => {
  it('takes any object, emptied, for a contract without parameters, and refuses what is not an object', () => {
    expect(checkContract(PurchaseOutcomesRequest, {})).toEqual({ ok: true, value: new PurchaseOutcomesRequest() });
    expect(checkContract(PurchaseOutcomesRequest, { extra: 1 })).toEqual({ ok: true, value: {} });
    for (const plain of [null, [], 'x', 3]) expect(checkContract(PurchaseOutcomesRequest, plain)).toEqual({ ok: false, problems: 'it is not an object' });
  });

  it('validates a contract with constraints and says what is wrong', () => {
    expect(checkContract(PurchaseOutcomes, { COMPLETED: 1, REJECTED: 0, CANCELLED: 2 })).toMatchObject({ ok: true });
    const refused = checkContract(PurchaseOutcomes, { COMPLETED: -1, REJECTED: 0 });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.problems).toMatch(/COMPLETED must not be less than 0.*CANCELLED/);
    expect(checkContract(UserRequest, [])).toMatchObject({ ok: false });
  });
});
