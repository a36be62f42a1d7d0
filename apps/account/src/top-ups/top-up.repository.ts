import { Inject, Injectable } from '@nestjs/common';
import { Client, types } from 'cassandra-driver';
import { CASSANDRA_CLIENT } from '@app/cassandra';
import { PaymentEventType, TopUpStatus } from '@app/contracts';

export interface TopUp {
  topUpId: string;
  userId: string;
  amount: number;
  status: TopUpStatus;
  paymentReference: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A provider event whose effect is durable. */
export interface HandledPaymentEvent {
  eventId: string;
  type: PaymentEventType;
  paymentReference: string;
  topUpId: string;
  amount: number;
  handledAt: Date;
}

const long = (value: number) => types.Long.fromNumber(value);

function toTopUp(row: types.Row): TopUp {
  return {
    topUpId: row.get('top_up_id'),
    userId: row.get('user_id'),
    amount: Number(row.get('amount')),
    status: row.get('status'),
    paymentReference: row.get('payment_reference'),
    createdAt: row.get('created_at'),
    updatedAt: row.get('updated_at'),
  };
}

function toHandledEvent(row: types.Row): HandledPaymentEvent {
  return {
    eventId: row.get('event_id'),
    type: row.get('type'),
    paymentReference: row.get('payment_reference'),
    topUpId: row.get('top_up_id'),
    amount: Number(row.get('amount')),
    handledAt: row.get('handled_at'),
  };
}

@Injectable()
export class TopUpRepository {
  constructor(@Inject(CASSANDRA_CLIENT) private readonly client: Client) {}

  /**
   * Records the top-up once per id; returns it as stored (the first one on a repeat). The reference
   * row goes first, so a recorded top-up can always be found by its reference; a losing repeat
   * removes the reference row it added.
   */
  async insertOnce(topUp: TopUp): Promise<{ created: boolean; topUp: TopUp }> {
    await this.client.execute('INSERT INTO top_ups_by_reference (payment_reference, top_up_id) VALUES (?, ?)', [topUp.paymentReference, topUp.topUpId]);
    const result = await this.client.execute(
      'INSERT INTO top_ups (top_up_id, user_id, amount, status, payment_reference, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS',
      [topUp.topUpId, topUp.userId, long(topUp.amount), topUp.status, topUp.paymentReference, topUp.createdAt, topUp.updatedAt],
    );
    if (result.wasApplied()) return { created: true, topUp };
    await this.client.execute('DELETE FROM top_ups_by_reference WHERE payment_reference = ?', [topUp.paymentReference]);
    return { created: false, topUp: toTopUp(result.first()) };
  }

  async find(topUpId: string): Promise<TopUp | undefined> {
    const row = (await this.client.execute('SELECT * FROM top_ups WHERE top_up_id = ?', [topUpId])).first();
    return row ? toTopUp(row) : undefined;
  }

  /** The top-up this reference was issued for; undefined for a reference nobody was given. */
  async findByReference(paymentReference: string): Promise<TopUp | undefined> {
    const row = (await this.client.execute('SELECT top_up_id FROM top_ups_by_reference WHERE payment_reference = ?', [paymentReference])).first();
    if (!row) return undefined;
    const topUp = await this.find(row.get('top_up_id'));
    return topUp?.paymentReference === paymentReference ? topUp : undefined;
  }

  /** Moves the top-up from `from` to `to`; false when it was not in `from` any more. */
  async transition(topUpId: string, from: TopUpStatus, to: TopUpStatus, now: Date): Promise<boolean> {
    const result = await this.client.execute('UPDATE top_ups SET status = ?, updated_at = ? WHERE top_up_id = ? IF status = ?', [to, now, topUpId, from]);
    return result.wasApplied();
  }

  async handledEvent(eventId: string): Promise<HandledPaymentEvent | undefined> {
    const row = (await this.client.execute('SELECT * FROM payment_events WHERE event_id = ?', [eventId])).first();
    return row ? toHandledEvent(row) : undefined;
  }

  /** Records that the event's effect is durable; false when it was recorded already (by a concurrent delivery). */
  async recordHandled(event: HandledPaymentEvent): Promise<boolean> {
    const result = await this.client.execute(
      'INSERT INTO payment_events (event_id, type, payment_reference, top_up_id, amount, handled_at) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS',
      [event.eventId, event.type, event.paymentReference, event.topUpId, long(event.amount), event.handledAt],
    );
    return result.wasApplied();
  }
}
