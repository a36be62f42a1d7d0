import { Injectable } from '@nestjs/common';
import { DomainError } from '@app/contracts';
import { CheckedLine, CheckLineReasons, CheckLinesReply, CheckLinesRequest } from '@app/contracts/shop/inventory-grpc';
import { ItemsRepository } from '../items/items.repository';

export const InventoryErrorCodes = { DuplicateSku: 'INVENTORY.DUPLICATE_SKU' } as const;

/**
 * Answers whether each line can be bought now, at the price the client was shown, from the items
 * table as it is (quantity and price). A read, not a reservation: the saga takes the units later,
 * and may still find them gone (the purchase is then CANCELLED and refunded).
 */
@Injectable()
export class InventoryService {
  constructor(private readonly items: ItemsRepository) {}

  async checkLines(request: CheckLinesRequest): Promise<CheckLinesReply> {
    const skus = new Set<string>();
    for (const line of request.lines) {
      if (skus.has(line.sku))
        throw new DomainError(InventoryErrorCodes.DuplicateSku, 'invalid', `sku "${line.sku}" is on more than one line; send each sku once.`);
      skus.add(line.sku);
    }
    const found = await Promise.all(request.lines.map((line) => this.items.find(line.sku)));
    return {
      lines: request.lines.map((line, i): CheckedLine => {
        const item = found[i];
        if (!item) return { sku: line.sku, ok: false, reason: CheckLineReasons.UnknownSku, available: 0, price: 0 };
        const available = Math.max(0, item.quantity);
        const reason =
          line.quantity > available ? CheckLineReasons.InsufficientStock : item.price !== line.expectedUnitPrice ? CheckLineReasons.PriceChanged : '';
        return { sku: line.sku, ok: reason === '', reason, available, price: item.price };
      }),
    };
  }
}
