import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';

export type MailState = 'sending' | 'sent';

/** What is recorded for a message id that someone already claimed. */
export interface ExistingClaim {
  state: MailState;
  claimToken: string;
  claimedAt: Date;
}

export type ClaimOutcome = { claimed: true } | { claimed: false; existing: ExistingClaim };

const LWT = { prepare: true, serialConsistency: types.consistencies.localSerial };

/**
 * The sent-mail log keyed by message id. Every change is a lightweight transaction on the
 * claim token, so two deliveries of one id (two mailer instances, or a redelivery while the
 * first send is still under way) can never both believe they own the send.
 */
@Injectable()
export class MailLogRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  async claim(messageId: string, token: string, recipient: string, kind: string): Promise<ClaimOutcome> {
    const result = await this.client.execute(
      `INSERT INTO sent_mail (message_id, state, claim_token, claimed_at, recipient, kind) VALUES (?, 'sending', ?, ?, ?, ?) IF NOT EXISTS`,
      [messageId, token, new Date(), recipient, kind],
      LWT,
    );
    if (result.wasApplied()) return { claimed: true };
    return { claimed: false, existing: toClaim(result.first()) };
  }

  /** Takes over a claim whose owner has not finished within the lease (it crashed, most likely). */
  async takeOver(messageId: string, staleToken: string, token: string): Promise<boolean> {
    const result = await this.client.execute(
      `UPDATE sent_mail SET claim_token = ?, claimed_at = ? WHERE message_id = ? IF state = 'sending' AND claim_token = ?`,
      [token, new Date(), messageId, staleToken],
      LWT,
    );
    return result.wasApplied();
  }

  async markSent(messageId: string, token: string, subject: string): Promise<void> {
    await this.client.execute(
      `UPDATE sent_mail SET state = 'sent', sent_at = ?, subject = ? WHERE message_id = ? IF claim_token = ?`,
      [new Date(), subject, messageId, token],
      LWT,
    );
  }

  /** Gives the id back after a send the SMTP server did not take, so a retry can claim it again. */
  async release(messageId: string, token: string): Promise<void> {
    await this.client.execute(`DELETE FROM sent_mail WHERE message_id = ? IF claim_token = ?`, [messageId, token], LWT);
  }

  async find(messageId: string): Promise<ExistingClaim | undefined> {
    const row = (
      await this.client.execute(`SELECT state, claim_token, claimed_at FROM sent_mail WHERE message_id = ?`, [messageId], { prepare: true })
    ).first();
    return row ? toClaim(row) : undefined;
  }
}

function toClaim(row: types.Row): ExistingClaim {
  return {
    // A row written before claims existed (001 without state) was sent.
    state: (row.get('state') as MailState | null) ?? 'sent',
    claimToken: (row.get('claim_token') as string | null) ?? '',
    claimedAt: (row.get('claimed_at') as Date | null) ?? new Date(0),
  };
}
