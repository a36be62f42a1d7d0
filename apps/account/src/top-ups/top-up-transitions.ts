import type { PaymentEventType, TopUpStatus } from '@app/contracts';

/**
 * What a payment event does to a top-up in each status: the whole state machine. A succeeded
 * payment credits the ledger first and then moves the status, so SUCCEEDED always means credited
 * (and a crash in between leaves a status the provider's retry moves on). SUCCEEDED is final.
 *
 * A succeeded payment also moves a FAILED top-up to SUCCEEDED: the provider holds the money (the
 * user paid again after a failed attempt, or the failure and the success raced), and a balance
 * must count every succeeded top-up.
 */
export type TopUpStep = { kind: 'credit-and-move'; from: TopUpStatus; to: 'SUCCEEDED' } | { kind: 'move'; from: TopUpStatus; to: 'FAILED' } | { kind: 'none' };

const TABLE: Record<TopUpStatus, Record<PaymentEventType, TopUpStep>> = {
  PENDING: {
    'payment.succeeded': { kind: 'credit-and-move', from: 'PENDING', to: 'SUCCEEDED' },
    'payment.failed': { kind: 'move', from: 'PENDING', to: 'FAILED' },
  },
  FAILED: {
    'payment.succeeded': { kind: 'credit-and-move', from: 'FAILED', to: 'SUCCEEDED' },
    'payment.failed': { kind: 'none' },
  },
  SUCCEEDED: {
    'payment.succeeded': { kind: 'none' },
    'payment.failed': { kind: 'none' },
  },
};

export function nextStep(status: TopUpStatus, event: PaymentEventType): TopUpStep {
  return TABLE[status][event];
}
