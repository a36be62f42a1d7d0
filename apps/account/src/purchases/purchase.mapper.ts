import { PurchaseLineView, PurchaseView } from '@app/contracts';
import type { Purchase } from './purchase.repository';

/** The purchase as its buyer sees it: over RPC, and in the status changes broadcast to the api. */
export function purchaseView(p: Purchase): PurchaseView {
  const out: PurchaseView = {
    purchaseId: p.purchaseId,
    sku: p.sku,
    quantity: p.quantity,
    amount: p.amount,
    lines: lineViews(p),
    status: p.status,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
  if (p.reason) out.reason = p.reason;
  return out;
}

/** Each line with its amount (a line of an unknown sku, whose purchase is REJECTED, at 0). */
export function lineViews(p: Purchase): PurchaseLineView[] {
  return p.lines.map((line) => {
    const unitPrice = line.unitPrice ?? 0;
    return { sku: line.sku, quantity: line.quantity, unitPrice, amount: unitPrice * line.quantity };
  });
}
