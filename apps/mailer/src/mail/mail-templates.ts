import { MailKind, PriceDropMailData, PurchaseCancelledMailData, PurchaseCompletedMailData, WelcomeMailData } from '@app/contracts';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

type DataOf = {
  welcome: WelcomeMailData;
  'purchase-completed': PurchaseCompletedMailData;
  'purchase-cancelled': PurchaseCancelledMailData;
  'price-drop': PriceDropMailData;
};

/** Cents as money, e.g. 123456 → "$1,234.56" (exact: no floating point on the way). */
export function formatMoney(cents: number, currency: string): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const units = Math.trunc(abs / 100);
  const fraction = String(abs % 100).padStart(2, '0');
  const grouped = units.toLocaleString('en-US');
  const symbol = new Intl.NumberFormat('en-US', { style: 'currency', currency }).formatToParts(0).find((p) => p.type === 'currency')?.value ?? `${currency} `;
  return `${sign}${symbol}${grouped}.${fraction}`;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A paragraph list as plain text and as HTML; every value is escaped for the HTML body. */
function compose(subject: string, greeting: string, paragraphs: string[]): RenderedMail {
  const text = [greeting, '', ...paragraphs.flatMap((p) => [p, '']), '— Retail'].join('\n');
  const html =
    `<!doctype html><html><body style="font-family:sans-serif">` +
    `<p>${escapeHtml(greeting)}</p>` +
    paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('') +
    `<p>— Retail</p></body></html>`;
  return { subject, text, html };
}

function greet(name: string | undefined, to: string): string {
  return `Hello ${name ?? to},`;
}

/** A cart purchase's lines, one paragraph each; undefined for a single-item purchase. */
function cartLines(d: PurchaseCompletedMailData, money: (cents: number) => string): string[] | undefined {
  if (!d.lines || d.lines.length < 2) return undefined;
  return d.lines.map((line) => `${line.quantity} × ${line.sku}: ${money(line.amount)}`);
}

/** One small template per kind: subject, plain-text body and HTML body. */
export function renderMail<K extends MailKind>(kind: K, to: string, data: DataOf[K], currency: string): RenderedMail {
  const money = (cents: number) => formatMoney(cents, currency);
  switch (kind) {
    case 'welcome': {
      const d = data as WelcomeMailData;
      return compose('Welcome to Retail', greet(d.name, to), ['Your account is ready. Happy shopping!']);
    }
    case 'purchase-completed': {
      const d = data as PurchaseCompletedMailData;
      const lines = cartLines(d, money);
      if (lines) {
        return compose(`Your purchase of ${lines.length} items is confirmed`, greet(d.name, to), [
          `We have received your payment of ${money(d.amount)}, and these items are reserved for you:`,
          ...lines,
          `Purchase reference: ${d.purchaseId}`,
        ]);
      }
      return compose(`Your purchase of ${d.quantity} × ${d.sku} is confirmed`, greet(d.name, to), [
        `We have received your payment of ${money(d.amount)} for ${d.quantity} × ${d.sku}, and the item is reserved for you.`,
        `Purchase reference: ${d.purchaseId}`,
      ]);
    }
    case 'purchase-cancelled': {
      const d = data as PurchaseCancelledMailData;
      const lines = cartLines(d, money);
      if (lines) {
        return compose(`Your purchase of ${lines.length} items was cancelled and refunded`, greet(d.name, to), [
          `We could not supply every item of your purchase: ${d.reason}. None of them was kept for you:`,
          ...lines,
          `The full amount of ${money(d.amount)} has been refunded to your balance.`,
          `Purchase reference: ${d.purchaseId}`,
        ]);
      }
      return compose(`Your purchase of ${d.quantity} × ${d.sku} was cancelled and refunded`, greet(d.name, to), [
        `We could not supply ${d.quantity} × ${d.sku}: ${d.reason}.`,
        `The full amount of ${money(d.amount)} has been refunded to your balance.`,
        `Purchase reference: ${d.purchaseId}`,
      ]);
    }
    case 'price-drop': {
      const d = data as PriceDropMailData;
      return compose(`Price drop: ${d.itemName} is now ${money(d.newPrice)}`, greet(d.name, to), [
        `${d.itemName} (${d.sku}), which you are watching, went down from ${money(d.oldPrice)} to ${money(d.newPrice)}.`,
      ]);
    }
    default:
      throw new Error(`no template for mail kind ${String(kind)}`);
  }
}
