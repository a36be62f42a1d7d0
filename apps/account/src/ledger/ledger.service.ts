import { Injectable } from '@nestjs/common';
import { AccountErrorCodes, DomainError } from '@app/contracts';
import { KeyedLanes } from '@app/messaging';
import { LedgerRepository } from './ledger.repository';

export type LedgerOutcome = { kind: 'applied'; balance: number } | { kind: 'already-applied'; balance: number } | { kind: 'insufficient'; balance: number };

/** Above this a balance would stop being an exact JSON number. */
const MAX_BALANCE = Number.MAX_SAFE_INTEGER;
const MAX_CAS_TRIES = 50;

/**
 * Balances in cents. Correctness comes from the ledger's compare-and-set on a version (safe with
 * any number of account instances); a per-account queue inside this process keeps its own
 * writers from racing each other, so the compare-and-set almost never has to retry.
 */
@Injectable()
export class LedgerService {
  private readonly lanes = new KeyedLanes();

  constructor(private readonly ledger: LedgerRepository) {}

  open(userId: string): Promise<void> {
    return this.ledger.open(userId);
  }

  async balance(userId: string): Promise<number> {
    const state = await this.ledger.balance(userId);
    return state?.balance ?? 0;
  }

  /**
   * Applies `amount` (negative for a debit) once per `entryId`: a repeat changes nothing and
   * says so. A debit that would take the balance below zero is refused, and the refusal is
   * recorded under its id (an entry of 0): the first answer for an id is its answer for good, so
   * the same debit asked again later (from a stale read, after a top-up) cannot take the money of
   * a purchase already rejected for it.
   */
  change(userId: string, entryId: string, amount: number): Promise<LedgerOutcome> {
    return this.lanes.run(userId, async () => {
      for (let attempt = 0; attempt < MAX_CAS_TRIES; attempt++) {
        const [state, recorded] = await Promise.all([this.ledger.balance(userId), this.ledger.entryAmount(userId, entryId)]);
        if (!state) {
          await this.ledger.open(userId);
          continue;
        }
        if (recorded !== undefined) {
          return recorded === 0 && amount < 0 ? { kind: 'insufficient', balance: state.balance } : { kind: 'already-applied', balance: state.balance };
        }
        if (state.balance + amount < 0) {
          if (await this.ledger.apply(userId, entryId, 0, state, new Date())) return { kind: 'insufficient', balance: state.balance };
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * (attempt + 1)));
          continue;
        }
        if (state.balance + amount > MAX_BALANCE) {
          throw new DomainError(AccountErrorCodes.BalanceOverflow, 'invalid', 'That credit would make the balance too large.');
        }
        if (await this.ledger.apply(userId, entryId, amount, state, new Date())) {
          return { kind: 'applied', balance: state.balance + amount };
        }
        // Another instance wrote in between: read again and retry.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * (attempt + 1)));
      }
      throw new DomainError(AccountErrorCodes.LedgerContended, 'unavailable', 'The balance is being changed by too many writers at once; try again.');
    });
  }
}
