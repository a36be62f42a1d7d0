import { TopUpView } from '@app/contracts';
import type { TopUp } from './top-up.repository';

export function topUpView(t: TopUp): TopUpView {
  return {
    topUpId: t.topUpId,
    status: t.status,
    amount: t.amount,
    paymentReference: t.paymentReference,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}
